<?php
/**
 * Limits documents: validation, the version rule and limit look-ups.
 *
 * WordPress-free on purpose (PHPUnit runs it without WordPress).
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) && ! defined( 'PLAN_BRIDGE_TESTING' ) ) {
	exit;
}

/**
 * Pure rules about pushed documents.
 */
class Bridge_Document {

	const UNLIMITED = 'unlimited';

	/**
	 * Store the incoming document.
	 */
	const APPLY = 'apply';

	/**
	 * Same version as stored: a no-op with the same answer.
	 */
	const SAME = 'same';

	/**
	 * Older than stored: nothing changes, answer "ignored".
	 */
	const IGNORE = 'ignore';

	/**
	 * The version rule: newer versions apply, the same is idempotent, older ones are ignored.
	 *
	 * @param int|null $stored   Version stored now, null when nothing is stored.
	 * @param int      $incoming Version of the pushed document.
	 * @return string One of APPLY, SAME, IGNORE.
	 */
	public static function decide( $stored, $incoming ) {
		if ( null === $stored || $incoming > $stored ) {
			return self::APPLY;
		}
		return $incoming === $stored ? self::SAME : self::IGNORE;
	}

	/**
	 * Validates a decoded site document; returns a normalised copy or an error message.
	 *
	 * @param mixed $doc      Decoded JSON.
	 * @param bool  $for_site True for a site's document (needs site_id, membership), false for defaults.
	 * @return array{0: array<string,mixed>|null, 1: string} [document, error]
	 */
	public static function validate( $doc, $for_site ) {
		if ( ! is_array( $doc ) ) {
			return array( null, 'the body is not a JSON object' );
		}
		if ( ! isset( $doc['version'] ) || ! is_int( $doc['version'] ) || $doc['version'] < 0 ) {
			return array( null, 'version must be a whole number' );
		}
		if ( $for_site && ( ! isset( $doc['site_id'] ) || ! is_int( $doc['site_id'] ) ) ) {
			return array( null, 'site_id must be a whole number' );
		}
		if ( ! isset( $doc['limits'] ) || ! is_array( $doc['limits'] ) ) {
			return array( null, 'limits must be an object' );
		}
		$limits = array();
		foreach ( $doc['limits'] as $name => $value ) {
			if ( 'posts' === $name ) {
				if ( ! is_array( $value ) ) {
					return array( null, 'limits.posts must be an object' );
				}
				$limits['posts'] = array();
				foreach ( $value as $type => $n ) {
					if ( ! self::is_limit_value( $n ) ) {
						return array( null, 'limits.posts values must be whole numbers or "unlimited"' );
					}
					$limits['posts'][ (string) $type ] = $n;
				}
				continue;
			}
			if ( ! self::is_limit_value( $value ) ) {
				return array( null, 'limit values must be whole numbers or "unlimited"' );
			}
			$limits[ (string) $name ] = $value;
		}
		$out = array(
			'version'   => $doc['version'],
			'issued_at' => isset( $doc['issued_at'] ) && is_string( $doc['issued_at'] ) ? $doc['issued_at'] : '',
			'limits'    => $limits,
		);
		if ( $for_site ) {
			$out['site_id'] = $doc['site_id'];
			$membership     = isset( $doc['membership'] ) ? $doc['membership'] : null;
			if ( null !== $membership && ! is_array( $membership ) ) {
				return array( null, 'membership must be an object or null' );
			}
			$out['membership'] = $membership;
			if ( isset( $doc['notices'] ) && is_array( $doc['notices'] ) ) {
				$out['notices'] = array( 'visits_80' => ! isset( $doc['notices']['visits_80'] ) || true === $doc['notices']['visits_80'] );
			}
		}
		return array( $out, '' );
	}

	/**
	 * A whole number >= 0 or "unlimited".
	 *
	 * @param mixed $value Value.
	 * @return bool
	 */
	public static function is_limit_value( $value ) {
		return self::UNLIMITED === $value || ( is_int( $value ) && $value >= 0 );
	}

	/**
	 * The limit for a key: an int, or null for unlimited (missing keys are unlimited).
	 *
	 * @param array<string,mixed> $limits Limits map.
	 * @param string              $name   Key, e.g. "visits".
	 * @return int|null
	 */
	public static function limit( array $limits, $name ) {
		if ( ! isset( $limits[ $name ] ) || ! is_int( $limits[ $name ] ) ) {
			return null;
		}
		return $limits[ $name ];
	}

	/**
	 * The posts limit of a post type, or null for unlimited (unlisted types are unlimited).
	 *
	 * @param array<string,mixed> $limits    Limits map.
	 * @param string              $post_type Post type.
	 * @return int|null
	 */
	public static function posts_limit( array $limits, $post_type ) {
		if ( ! isset( $limits['posts'] ) || ! is_array( $limits['posts'] ) ) {
			return null;
		}
		return self::limit( $limits['posts'], $post_type );
	}

	/**
	 * Whether one more item fits: used < limit (null limit = unlimited).
	 *
	 * @param int|null $limit Limit.
	 * @param int      $used  Current usage.
	 * @return bool
	 */
	public static function allows_one_more( $limit, $used ) {
		return null === $limit || $used < $limit;
	}
}
