<?php
/**
 * Notices to a membership's owner, the parts without WordPress: a pushed notice document's shape,
 * the list of the last notices sent, and when the 80 % visits notice is due.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) && ! defined( 'PLAN_BRIDGE_TESTING' ) ) {
	exit;
}

/**
 * Pure helpers of Bridge_Notices.
 */
class Bridge_Notice_Log {

	/**
	 * The kinds the bridge pushes, and the plugin's own (visits_80).
	 */
	const KINDS = array( 'change_applied', 'change_scheduled', 'payment_received', 'refund_issued', 'balance_credited', 'past_due', 'fallback', 'renewal_coming', 'trial_ending', 'payment_failed', 'visits_80' );

	/**
	 * How many sent notices the Network Admin page lists.
	 */
	const KEEP = 50;

	/**
	 * Checks a decoded notice document: [document, ''] or [null, why].
	 *
	 * @param mixed $doc Decoded JSON.
	 * @return array{0: array<string,mixed>|null, 1: string}
	 */
	public static function validate( $doc ) {
		if ( ! is_array( $doc ) ) {
			return array( null, 'the notice must be a JSON object' );
		}
		if ( ! isset( $doc['id'] ) || ! is_string( $doc['id'] ) || ! preg_match( '/^[A-Za-z0-9_.-]{1,120}$/', $doc['id'] ) ) {
			return array( null, 'id must be 1 to 120 letters, digits, dots, dashes or underscores' );
		}
		if ( ! isset( $doc['kind'] ) || ! in_array( $doc['kind'], self::KINDS, true ) ) {
			return array( null, 'kind is not a known notice' );
		}
		if ( ! isset( $doc['site_id'] ) || ! is_int( $doc['site_id'] ) || $doc['site_id'] < 1 ) {
			return array( null, 'site_id must be a positive whole number' );
		}
		foreach ( array( 'user_id' => 'is_int', 'email' => 'is_string', 'locale' => 'is_string' ) as $key => $check ) {
			if ( isset( $doc[ $key ] ) && ! $check( $doc[ $key ] ) ) {
				return array( null, $key . ' has the wrong type' );
			}
		}
		$data = isset( $doc['data'] ) ? $doc['data'] : array();
		if ( ! is_array( $data ) ) {
			return array( null, 'data must be an object' );
		}
		return array(
			array(
				'id'      => $doc['id'],
				'kind'    => $doc['kind'],
				'site_id' => $doc['site_id'],
				'user_id' => isset( $doc['user_id'] ) ? $doc['user_id'] : null,
				'email'   => isset( $doc['email'] ) ? $doc['email'] : null,
				'locale'  => isset( $doc['locale'] ) ? $doc['locale'] : null,
				'data'    => $data,
			),
			'',
		);
	}

	/**
	 * The list of the last notices sent, newest first, with `$entry` added (at most KEEP).
	 *
	 * @param mixed               $log   The stored list (anything else counts as empty).
	 * @param array<string,mixed> $entry {id, kind, site_id, to, locale, at}.
	 * @return array<int,array<string,mixed>>
	 */
	public static function remember( $log, array $entry ) {
		$log = is_array( $log ) ? array_values( $log ) : array();
		array_unshift( $log, $entry );
		return array_slice( $log, 0, self::KEEP );
	}

	/**
	 * Whether the 80 % visits notice is due: on, a limit, and 80 % of it reached.
	 *
	 * @param bool     $on    Whether the bridge says this notice is on.
	 * @param int      $used  Visits this month.
	 * @param int|null $limit The monthly visits limit; null: unlimited.
	 * @return bool
	 */
	public static function visits_due( $on, $used, $limit ) {
		return $on && null !== $limit && $limit > 0 && $used * 5 >= $limit * 4;
	}

	/**
	 * The id of a site's 80 % visits notice for a month: one a month at most.
	 *
	 * @param int    $blog_id Site.
	 * @param string $month   "YYYYMM" in the site's timezone.
	 * @return string
	 */
	public static function visits_id( $blog_id, $month ) {
		return 'visits_80-b' . (int) $blog_id . '-' . $month;
	}
}
