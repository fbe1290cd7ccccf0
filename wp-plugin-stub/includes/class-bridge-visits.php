<?php
/**
 * Visits: page views by logged-out visitors, counted per calendar month in the site's timezone.
 *
 * A visit is the first page view of a visitor that is not a bot; the same visitor's views in the
 * next 30 minutes belong to it (Bridge_Visitor has the rules; the README says it for operators).
 * A visitor is a salted daily hash of (address, user agent); the recently seen hashes live in one
 * non-autoloaded row per site, `plan_bridge_visitors` (JSON, at most Bridge_Visitor::MAX_SEEN), read
 * and written by SQL and updated under a MySQL named lock, so concurrent first views count once.
 *
 * The counter is one non-autoloaded row per month in the site's own (small) options table,
 * `plan_bridge_visits_YYYYMM`, bumped with a single atomic INSERT ... ON DUPLICATE KEY UPDATE: no
 * read-modify-write race, no cache to invalidate, no row per visit. Over the limit the network's
 * policy decides (Bridge_Settings::visits_over_limit()): a notice only, or a 503 page.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Counts visits and enforces the `visits` limit.
 */
class Bridge_Visits {

	const OPTION_PREFIX = 'plan_bridge_visits_';
	const SEEN_OPTION   = 'plan_bridge_visitors';
	const LOCK_WAIT_S   = 2;
	const RETRY_AFTER_S = 3600;

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action( 'template_redirect', array( __CLASS__, 'on_front_end_request' ), 0 );
		add_action( 'admin_notices', array( __CLASS__, 'notice' ) );
		add_action( Bridge_Usage::DAILY_HOOK, array( __CLASS__, 'remove_old_counters' ) );
	}

	/**
	 * Daily: deletes the counters of months before the previous one (the current month's and the
	 * previous month's stay, so a late report or a look back at last month still finds them).
	 */
	public static function remove_old_counters() {
		global $wpdb;
		$this_month = new DateTimeImmutable( 'first day of this month 12:00', wp_timezone() );
		$keep       = array(
			self::OPTION_PREFIX . $this_month->format( 'Ym' ),
			self::OPTION_PREFIX . $this_month->modify( '-1 month' )->format( 'Ym' ),
		);
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- a prefix scan of our own rows; no API lists options.
		$names = $wpdb->get_col(
			$wpdb->prepare(
				"SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE %s",
				$wpdb->esc_like( self::OPTION_PREFIX ) . '%'
			)
		);
		foreach ( $names as $name ) {
			if ( preg_match( '/^' . self::OPTION_PREFIX . '[0-9]{6}$/', $name ) && ! in_array( $name, $keep, true ) ) {
				delete_option( $name );
			}
		}
	}

	/**
	 * The counter's option name for this month.
	 *
	 * @return string
	 */
	public static function option_name() {
		return self::OPTION_PREFIX . wp_date( 'Ym' );
	}

	/**
	 * Visits counted this calendar month on the current site.
	 *
	 * @return int
	 */
	public static function this_month() {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- the counter is written by SQL, never cached.
		return (int) $wpdb->get_var(
			$wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", self::option_name() )
		);
	}

	/**
	 * Adds one visit.
	 */
	public static function count_one() {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery
		$wpdb->query(
			$wpdb->prepare(
				"INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, '1', 'no') ON DUPLICATE KEY UPDATE option_value = option_value + 1",
				self::option_name()
			)
		);
	}

	/**
	 * Whether this request is a page view to count.
	 *
	 * @return bool
	 */
	public static function is_countable_view() {
		$method = isset( $_SERVER['REQUEST_METHOD'] ) ? strtoupper( sanitize_text_field( wp_unslash( $_SERVER['REQUEST_METHOD'] ) ) ) : 'GET';
		if ( 'GET' !== $method && 'HEAD' !== $method ) {
			return false;
		}
		if ( is_user_logged_in() || is_admin() || wp_doing_ajax() || wp_doing_cron() || ( defined( 'REST_REQUEST' ) && REST_REQUEST ) ) {
			return false;
		}
		if ( is_feed() || is_robots() || is_trackback() || is_preview() || is_embed() ) {
			return false;
		}
		return ! ( function_exists( 'is_favicon' ) && is_favicon() );
	}

	/**
	 * The visits limit of the current site, or null.
	 *
	 * @return int|null
	 */
	public static function limit() {
		return Bridge_Document::limit( Bridge_Limits_Store::effective_limits(), 'visits' );
	}

	/**
	 * template_redirect: count the view, or answer 503 when over the limit and so configured.
	 */
	public static function on_front_end_request() {
		if ( ! self::is_countable_view() ) {
			return;
		}
		$limit = self::limit();
		if ( null !== $limit && 'unavailable' === Bridge_Settings::visits_over_limit() && self::this_month() >= $limit ) {
			self::unavailable();
			return;
		}
		if ( self::is_new_visit() ) {
			self::count_one();
			Bridge_Notices::after_visit( $limit );
		}
	}

	/**
	 * Whether this page view starts a visit: not a bot, and its visitor was not counted in the
	 * last 30 minutes. Remembers the visitor when it does.
	 *
	 * @return bool
	 */
	public static function is_new_visit() {
		// Only hashed, never stored or shown: no sanitising needed beyond unslashing.
		// phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized
		$agent = isset( $_SERVER['HTTP_USER_AGENT'] ) ? (string) wp_unslash( $_SERVER['HTTP_USER_AGENT'] ) : '';
		/**
		 * Filters the lower-case user agent substrings that mark a bot (not counted as visits).
		 *
		 * @param string[] $substrings Substrings.
		 */
		$bots = (array) apply_filters( 'plan_bridge_bot_user_agents', Bridge_Visitor::BOT_SUBSTRINGS );
		if ( Bridge_Visitor::is_bot( $agent, $bots ) ) {
			return false;
		}
		// phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized
		$address = isset( $_SERVER['REMOTE_ADDR'] ) ? (string) wp_unslash( $_SERVER['REMOTE_ADDR'] ) : '';
		$salt    = Bridge_Visitor::daily_salt( wp_salt( 'nonce' ), gmdate( 'Y-m-d' ) );
		$hash    = Bridge_Visitor::visitor_hash( $address, $agent, $salt );
		$now     = time();

		list( $counted ) = Bridge_Visitor::remember( self::seen(), $hash, $now );
		if ( ! $counted ) {
			return false; // The common repeat view: one read, no write, no lock.
		}
		global $wpdb;
		// Named locks are server-wide: the options table's name keeps other sites and installs apart.
		$lock = 'plan_bridge_visitors_' . md5( $wpdb->options );
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery
		$locked = (bool) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK( %s, %d )', $lock, self::LOCK_WAIT_S ) );
		// Read again under the lock: a concurrent first view of the same visitor may have won.
		list( $counted, $seen ) = Bridge_Visitor::remember( self::seen(), $hash, $now );
		if ( $counted ) {
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery
			$wpdb->query(
				$wpdb->prepare(
					"INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no') ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)",
					self::SEEN_OPTION,
					wp_json_encode( (object) $seen )
				)
			);
		}
		if ( $locked ) {
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery
			$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK( %s )', $lock ) );
		}
		return $counted;
	}

	/**
	 * The recently seen visitors of the current site: hash => time of the counted view.
	 *
	 * @return array<string,int>
	 */
	private static function seen() {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- written by SQL under a lock, never cached.
		$json = $wpdb->get_var(
			$wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", self::SEEN_OPTION )
		);
		$seen = is_string( $json ) ? json_decode( $json, true ) : null;
		return is_array( $seen ) ? $seen : array();
	}

	/**
	 * The friendly "temporarily unavailable" page (503 + Retry-After, never a 404).
	 */
	public static function unavailable() {
		if ( ! headers_sent() ) {
			header( 'Retry-After: ' . self::RETRY_AFTER_S );
			nocache_headers();
		}
		wp_die(
			'<h1>' . esc_html__( 'Temporarily unavailable', 'plan-bridge' ) . '</h1><p>' .
			esc_html__( 'This site is temporarily unavailable. Please try again later.', 'plan-bridge' ) . '</p>',
			esc_html__( 'Temporarily unavailable', 'plan-bridge' ),
			array( 'response' => 503 )
		);
	}

	/**
	 * Admin notice from 80 % of the limit.
	 */
	public static function notice() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$limit = self::limit();
		if ( null === $limit ) {
			return;
		}
		$used = self::this_month();
		if ( $used * 100 < $limit * 80 ) {
			return;
		}
		if ( $used >= $limit ) {
			$text = sprintf(
				/* translators: %s: the monthly visits limit. */
				__( 'This site has reached its limit of %s visits this month.', 'plan-bridge' ),
				number_format_i18n( $limit )
			);
			if ( 'unavailable' === Bridge_Settings::visits_over_limit() ) {
				$text .= ' ' . __( 'Visitors now see a "temporarily unavailable" page.', 'plan-bridge' );
			}
			$class = 'notice-error';
		} else {
			$text  = sprintf(
				/* translators: 1: visits so far, 2: the monthly visits limit, 3: percentage. */
				__( 'This site has used %1$s of its %2$s visits this month (%3$s%%).', 'plan-bridge' ),
				number_format_i18n( $used ),
				number_format_i18n( $limit ),
				number_format_i18n( floor( $used * 100 / max( 1, $limit ) ) )
			);
			$class = 'notice-warning';
		}
		printf(
			'<div class="notice %1$s"><p>%2$s <a href="%3$s">%4$s</a></p></div>',
			esc_attr( $class ),
			esc_html( $text ),
			esc_url( Bridge_Settings::account_url() ),
			esc_html__( 'Change your plan on the Account page', 'plan-bridge' )
		);
	}
}
