<?php
/**
 * Where limits documents live and how a new one is applied.
 *
 * A site's document is the blog option `plan_bridge_limits` (autoloaded: every request reads it);
 * the network's default limits are the network option `plan_bridge_default_limits`.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Reads and writes limits documents.
 */
class Bridge_Limits_Store {

	const SITE_OPTION    = 'plan_bridge_limits';
	const DEFAULT_OPTION = 'plan_bridge_default_limits';

	/**
	 * The current site's own document, or null.
	 *
	 * @return array<string,mixed>|null
	 */
	public static function site_document() {
		$doc = get_option( self::SITE_OPTION, null );
		return is_array( $doc ) ? $doc : null;
	}

	/**
	 * The network's default limits document, or null.
	 *
	 * @return array<string,mixed>|null
	 */
	public static function default_document() {
		$doc = get_site_option( self::DEFAULT_OPTION, null );
		return is_array( $doc ) ? $doc : null;
	}

	/**
	 * Whether the current site enforces anything at all (its own document or the defaults).
	 *
	 * @return bool
	 */
	public static function has_limits() {
		return null !== self::site_document() || null !== self::default_document();
	}

	/**
	 * The limits the current site enforces: its own, else the network's defaults, else none.
	 *
	 * @return array<string,mixed>
	 */
	public static function effective_limits() {
		$doc = self::site_document();
		if ( null === $doc ) {
			$doc = self::default_document();
		}
		return ( null !== $doc && isset( $doc['limits'] ) && is_array( $doc['limits'] ) ) ? $doc['limits'] : array();
	}

	/**
	 * The membership snapshot of the current site, or null.
	 *
	 * @return array<string,mixed>|null
	 */
	public static function membership() {
		$doc = self::site_document();
		return ( null !== $doc && isset( $doc['membership'] ) && is_array( $doc['membership'] ) ) ? $doc['membership'] : null;
	}

	/**
	 * The version rule's answer when nothing is to be stored: an older version is ignored, the same
	 * version is answered as applied again. Null when the document is newer and must be stored.
	 *
	 * @param int|null $stored_version Version stored now, if any.
	 * @param int      $version        Version of the incoming document.
	 * @return array<string,mixed>|null
	 */
	private static function answer_without_applying( $stored_version, $version ) {
		$decision = Bridge_Document::decide( $stored_version, $version );
		if ( Bridge_Document::IGNORE === $decision ) {
			return array(
				'applied_version' => $stored_version,
				'ignored'         => true,
			);
		}
		if ( Bridge_Document::SAME === $decision ) {
			return array( 'applied_version' => $stored_version );
		}
		return null;
	}

	/**
	 * Applies a validated site document to the current site under the version rule.
	 *
	 * @param array<string,mixed> $doc Validated document (Bridge_Document::validate).
	 * @return array<string,mixed> The answer: applied_version and, for an older version, ignored.
	 */
	public static function apply_site_document( array $doc ) {
		list( $answer ) = self::apply_site_document_deciding( $doc );
		return $answer;
	}

	/**
	 * The same, with the version rule's decision beside the answer (a batch answers it per site).
	 *
	 * @param array<string,mixed> $doc Validated document (Bridge_Document::validate).
	 * @return array{0: array<string,mixed>, 1: string} [answer, Bridge_Document::APPLY|SAME|IGNORE]
	 */
	public static function apply_site_document_deciding( array $doc ) {
		$stored         = self::site_document();
		$stored_version = null !== $stored ? (int) $stored['version'] : null;
		$decision       = Bridge_Document::decide( $stored_version, (int) $doc['version'] );
		$answer         = self::answer_without_applying( $stored_version, (int) $doc['version'] );
		if ( null !== $answer ) {
			return array( $answer, $decision );
		}
		$doc['received_at'] = time();
		update_option( self::SITE_OPTION, $doc, true );
		Bridge_Disk_Limits::apply_to_site( Bridge_Document::limit( $doc['limits'], 'disk_mb' ) );
		Bridge_Events::enqueue(
			'limits.applied',
			array(
				'site_id' => get_current_blog_id(),
				'version' => $doc['version'],
			)
		);
		Bridge_Usage::schedule_report();
		return array( array( 'applied_version' => $doc['version'] ), $decision );
	}

	/**
	 * Applies validated network defaults under the version rule.
	 *
	 * @param array<string,mixed> $doc Validated document.
	 * @return array<string,mixed>
	 */
	public static function apply_default_document( array $doc ) {
		$stored         = self::default_document();
		$stored_version = null !== $stored ? (int) $stored['version'] : null;
		$answer         = self::answer_without_applying( $stored_version, (int) $doc['version'] );
		if ( null !== $answer ) {
			return $answer;
		}
		$doc['received_at'] = time();
		update_site_option( self::DEFAULT_OPTION, $doc );
		Bridge_Disk_Limits::ensure_quota_checked();
		return array( 'applied_version' => $doc['version'] );
	}
}
