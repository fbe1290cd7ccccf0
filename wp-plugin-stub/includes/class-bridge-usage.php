<?php
/**
 * Usage of a site (what the Account page shows and usage.reported carries).
 *
 * Counting rules are in docs/wordpress-contract.md: posts in publish, future and private; disk in
 * whole MB rounded up; users holding a role, super admins excluded; visits this calendar month.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Counts usage and reports it (debounced on changes, and daily).
 */
class Bridge_Usage {

	const HOOK       = 'plan_bridge_report_usage';
	const DAILY_HOOK = 'plan_bridge_daily_usage';
	const DEBOUNCE_S = 300;

	/**
	 * Statuses that count against a posts limit.
	 *
	 * @var string[]
	 */
	const COUNTED_STATUSES = array( 'publish', 'future', 'private' );

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action( self::HOOK, array( __CLASS__, 'report' ) );
		add_action( self::DAILY_HOOK, array( __CLASS__, 'report' ) );
		add_action( 'transition_post_status', array( __CLASS__, 'post_status_changed' ), 10, 2 );
		add_action( 'add_user_to_blog', array( __CLASS__, 'schedule_report' ), 10, 0 );
		add_action( 'remove_user_from_blog', array( __CLASS__, 'schedule_report' ), 10, 0 );
		add_action( 'add_attachment', array( __CLASS__, 'schedule_report' ), 10, 0 );
		add_action( 'delete_attachment', array( __CLASS__, 'schedule_report' ), 10, 0 );
		add_action( 'admin_init', array( __CLASS__, 'ensure_daily' ) );
		add_action( 'wp_loaded', array( __CLASS__, 'ensure_daily_in_cron' ) );
	}

	/**
	 * A post moved into or out of a counted status.
	 *
	 * @param string $new_status New status.
	 * @param string $old_status Old status.
	 */
	public static function post_status_changed( $new_status, $old_status ) {
		if ( in_array( $new_status, self::COUNTED_STATUSES, true ) !== in_array( $old_status, self::COUNTED_STATUSES, true ) ) {
			self::schedule_report();
		}
	}

	/**
	 * Debounce: one report a few minutes after the first change, whatever follows.
	 */
	public static function schedule_report() {
		if ( false === wp_next_scheduled( self::HOOK ) ) {
			wp_schedule_single_event( time() + self::DEBOUNCE_S, self::HOOK );
		}
	}

	/**
	 * Keeps the daily report scheduled on sites whose admin is used.
	 */
	public static function ensure_daily() {
		if ( false === wp_next_scheduled( self::DAILY_HOOK ) ) {
			wp_schedule_event( time() + HOUR_IN_SECONDS, 'daily', self::DAILY_HOOK );
		}
	}

	/**
	 * The same when WP-Cron runs for a site.
	 */
	public static function ensure_daily_in_cron() {
		if ( wp_doing_cron() ) {
			self::ensure_daily();
		}
	}

	/**
	 * WP-Cron: queues usage.reported for the current site.
	 */
	public static function report() {
		Bridge_Events::enqueue(
			'usage.reported',
			array(
				'site_id' => get_current_blog_id(),
				'usage'   => self::current(),
			)
		);
		// Already inside WP-Cron, never a page request: deliver now rather than on the next cron
		// run (whose order among due hooks is not ours to choose). Failures stay queued.
		Bridge_Events::send_due();
	}

	/**
	 * All usage numbers of the current site.
	 *
	 * @return array<string,mixed>
	 */
	public static function current() {
		$posts  = array();
		$limits = Bridge_Limits_Store::effective_limits();
		$types  = array_unique(
			array_merge(
				array( 'post', 'page' ),
				isset( $limits['posts'] ) && is_array( $limits['posts'] ) ? array_map( 'strval', array_keys( $limits['posts'] ) ) : array()
			)
		);
		foreach ( $types as $type ) {
			$posts[ $type ] = self::posts( $type );
		}
		$network = get_network();
		return array(
			'posts'          => $posts,
			'disk_mb'        => self::disk_mb(),
			'users'          => self::users(),
			'visits'         => Bridge_Visits::this_month(),
			'custom_domains' => ( $network && get_site()->domain !== $network->domain ) ? 1 : 0,
		);
	}

	/**
	 * Posts of a type in a counted status.
	 *
	 * @param string $post_type Post type.
	 * @return int
	 */
	public static function posts( $post_type ) {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- must not be served from a stale cache when enforcing.
		return (int) $wpdb->get_var(
			$wpdb->prepare(
				"SELECT COUNT(*) FROM {$wpdb->posts} WHERE post_type = %s AND post_status IN ('publish', 'future', 'private')",
				$post_type
			)
		);
	}

	/**
	 * Disk used in whole MB, rounded up.
	 *
	 * @return int
	 */
	public static function disk_mb() {
		return (int) ceil( (float) get_space_used() );
	}

	/**
	 * Users holding a role on the current site, super admins excluded.
	 *
	 * @return int
	 */
	public static function users() {
		$count = 0;
		foreach ( get_users( array( 'fields' => array( 'ID', 'user_login' ) ) ) as $user ) {
			if ( ! is_super_admin( (int) $user->ID ) ) {
				++$count;
			}
		}
		return $count;
	}
}
