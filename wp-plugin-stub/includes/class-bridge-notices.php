<?php
/**
 * Notices to a membership's owner: POST /wp-json/bridge/v1/notices (and XML-RPC
 * bridge.sendNotice), signed like a limits push, mailed with wp_mail in the owner's language.
 *
 * Each notice carries a stable id. Before mailing, the id is claimed with one INSERT IGNORE into
 * the main site's options table (unique option name), so a retried push (or the same push twice
 * at once) mails once: the second answers `duplicate`. When wp_mail fails the claim is let go and
 * the push answered 503, so the bridge retries it. Links go to the site's Account page in
 * wp-admin, never to a bearer URL. The 80 % visits notice is the plugin's own (it owns the visit
 * counts): once a month per site, when the pushed limits document says it is on.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Receives, mails and lists notices.
 */
class Bridge_Notices {

	const LOG_OPTION   = 'plan_bridge_notices_sent';
	const CLAIM_PREFIX = 'plan_bridge_notice_';
	const VISITS_OPTION = 'plan_bridge_visits_notice_month';

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action( 'rest_api_init', array( __CLASS__, 'routes' ) );
	}

	/**
	 * POST /bridge/v1/notices: no capability, the push signature is the permission.
	 */
	public static function routes() {
		register_rest_route(
			'bridge/v1',
			'/notices',
			array(
				array(
					'methods'             => WP_REST_Server::CREATABLE,
					'callback'            => static function ( $request ) {
						return rest_ensure_response( self::receive( $request->get_body() ) );
					},
					'permission_callback' => array( new Bridge_Limits_Controller(), 'check_signature' ),
				),
			)
		);
	}

	/**
	 * Validates an authenticated notice and mails it once.
	 *
	 * @param string $body Raw JSON body (already verified).
	 * @return array<string,mixed>|WP_Error {id, status: sent|duplicate|no_recipient}
	 */
	public static function receive( $body ) {
		list( $doc, $why ) = Bridge_Notice_Log::validate( json_decode( $body, true ) );
		if ( null === $doc ) {
			return new WP_Error(
				'bridge_invalid_notice',
				/* translators: %s: what is wrong with the notice, in English. */
				sprintf( __( 'The notice is not valid: %s.', 'plan-bridge' ), $why ),
				array( 'status' => 400 )
			);
		}
		list( $to, $locale ) = self::recipient( $doc );
		if ( '' === $to ) {
			return array(
				'id'     => $doc['id'],
				'status' => 'no_recipient',
			);
		}
		return self::send( $doc, $to, $locale );
	}

	/**
	 * Mails `$doc` to `$to` in `$locale` unless its id was mailed before.
	 *
	 * @param array<string,mixed> $doc    Validated notice.
	 * @param string              $to     E-mail address.
	 * @param string              $locale Locale.
	 * @return array<string,mixed>|WP_Error
	 */
	public static function send( array $doc, $to, $locale ) {
		if ( ! self::claim( $doc['id'] ) ) {
			return array(
				'id'     => $doc['id'],
				'status' => 'duplicate',
			);
		}
		self::switch_language( $locale );
		try {
			list( $subject, $text ) = self::compose( $doc, $locale );
			$sent                   = wp_mail( $to, $subject, $text );
		} finally {
			self::switch_language( null );
		}
		if ( ! $sent ) {
			self::unclaim( $doc['id'] );
			return new WP_Error( 'bridge_mail_failed', __( 'The notice could not be mailed; send it again later.', 'plan-bridge' ), array( 'status' => 503 ) );
		}
		$log = Bridge_Notice_Log::remember(
			get_site_option( self::LOG_OPTION, array() ),
			array(
				'id'      => $doc['id'],
				'kind'    => $doc['kind'],
				'site_id' => $doc['site_id'],
				'to'      => $to,
				'locale'  => $locale,
				'at'      => time(),
			)
		);
		update_site_option( self::LOG_OPTION, $log );
		return array(
			'id'     => $doc['id'],
			'status' => 'sent',
		);
	}

	/**
	 * The owner's address and language: the WordPress user's, else the document's.
	 *
	 * @param array<string,mixed> $doc Validated notice.
	 * @return array{0: string, 1: string}
	 */
	private static function recipient( array $doc ) {
		$user = null === $doc['user_id'] ? false : get_userdata( $doc['user_id'] );
		if ( $user ) {
			return array( (string) $user->user_email, get_user_locale( $user ) );
		}
		$email = is_email( (string) $doc['email'] ) ? (string) $doc['email'] : '';
		return array( $email, null !== $doc['locale'] ? $doc['locale'] : get_locale() );
	}

	/**
	 * Claims a notice id for mailing; false when it was claimed (mailed) before.
	 *
	 * @param string $id Notice id.
	 * @return bool
	 */
	private static function claim( $id ) {
		global $wpdb;
		$table = $wpdb->get_blog_prefix( get_main_site_id() ) . 'options';
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- an atomic claim: the option name is unique.
		$rows = $wpdb->query(
			$wpdb->prepare(
				"INSERT IGNORE INTO {$table} (option_name, option_value, autoload) VALUES (%s, %s, 'no')", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				self::CLAIM_PREFIX . md5( $id ),
				(string) time()
			)
		);
		return 1 === $rows;
	}

	/**
	 * Lets a claim go (the mail failed).
	 *
	 * @param string $id Notice id.
	 */
	private static function unclaim( $id ) {
		global $wpdb;
		$table = $wpdb->get_blog_prefix( get_main_site_id() ) . 'options';
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE option_name = %s", self::CLAIM_PREFIX . md5( $id ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * The plugin's strings in `$locale` (null: back to the site's). WordPress's own
	 * switch_to_locale needs the core language pack; the plugin's catalogue is loaded directly.
	 *
	 * @param string|null $locale Locale.
	 */
	private static function switch_language( $locale ) {
		static $filter = null;
		if ( null !== $filter ) {
			remove_filter( 'plugin_locale', $filter );
			$filter = null;
		}
		if ( null !== $locale ) {
			$filter = static function () use ( $locale ) {
				return $locale;
			};
			add_filter( 'plugin_locale', $filter );
		}
		unload_textdomain( 'plan-bridge' );
		plan_bridge_load_textdomain();
	}

	/**
	 * Subject and text of a notice.
	 *
	 * @param array<string,mixed> $doc    Validated notice.
	 * @param string              $locale The reader's locale (money formats).
	 * @return array{0: string, 1: string}
	 */
	private static function compose( array $doc, $locale ) {
		$d     = $doc['data'];
		$plan  = isset( $d['plan_name'] ) ? (string) $d['plan_name'] : '';
		$from  = isset( $d['from_plan_name'] ) ? (string) $d['from_plan_name'] : '';
		$money = static function ( $key ) use ( $d, $locale ) {
			$amount = isset( $d[ $key ] ) ? (string) $d[ $key ] : '0';
			$number = number_format_i18n( abs( (float) $amount ), false === strpos( $amount, '.' ) ? 0 : strlen( $amount ) - strpos( $amount, '.' ) - 1 );
			return Bridge_Account_Page::with_currency( $number, isset( $d['currency'] ) ? (string) $d['currency'] : '', $locale );
		};
		$number = isset( $d['number'] ) ? (string) $d['number'] : '';
		switch ( $doc['kind'] ) {
			case 'change_applied':
				/* translators: %s: plan name. */
				$subject = sprintf( __( 'Your plan is now %s', 'plan-bridge' ), $plan );
				/* translators: 1: the previous plan, 2: the new plan. */
				$text = sprintf( __( 'Your membership changed from the %1$s plan to the %2$s plan.', 'plan-bridge' ), $from, $plan );
				break;
			case 'change_scheduled':
				$when    = isset( $d['effective_at'] ) ? substr( (string) $d['effective_at'], 0, 10 ) : '';
				$subject = __( 'A change to your membership is scheduled', 'plan-bridge' );
				/* translators: 1: plan name, 2: date (YYYY-MM-DD). */
				$text = sprintf( __( 'Your membership will change to the %1$s plan on %2$s. Until then you can cancel the scheduled change on the Account page.', 'plan-bridge' ), $plan, $when );
				break;
			case 'payment_received':
				/* translators: %s: receipt number. */
				$subject = sprintf( __( 'Payment received: receipt %s', 'plan-bridge' ), $number );
				/* translators: 1: amount with currency, 2: receipt number. */
				$text = sprintf( __( 'Thank you: we received your payment of %1$s. Your receipt %2$s is on the Account page.', 'plan-bridge' ), $money( 'amount' ), $number );
				break;
			case 'refund_issued':
				/* translators: %s: credit note number. */
				$subject = sprintf( __( 'Refund issued: credit note %s', 'plan-bridge' ), $number );
				/* translators: 1: amount with currency, 2: receipt number, 3: credit note number. */
				$text = sprintf( __( 'A refund of %1$s was issued for receipt %2$s (credit note %3$s).', 'plan-bridge' ), $money( 'amount' ), isset( $d['receipt_number'] ) ? (string) $d['receipt_number'] : '', $number );
				break;
			case 'balance_credited':
				$subject = __( 'Your payment was added to your balance', 'plan-bridge' );
				/* translators: 1: amount with currency, 2: balance with currency. */
				$text = sprintf( __( 'Your payment of %1$s was added to your balance, which is now %2$s. It pays your next invoices.', 'plan-bridge' ), $money( 'amount' ), $money( 'balance' ) );
				break;
			case 'past_due':
				$subject = __( 'Your renewal is past due', 'plan-bridge' );
				/* translators: %s: plan name. */
				$text = sprintf( __( 'The renewal of your %s plan is not paid yet. Please pay it or replace your payment method on the Account page to keep your plan.', 'plan-bridge' ), $plan );
				break;
			case 'fallback':
				/* translators: %s: plan name. */
				$subject = sprintf( __( 'Your membership moved to the %s plan', 'plan-bridge' ), $plan );
				/* translators: 1: the previous plan, 2: the fallback plan. */
				$text = sprintf( __( 'The renewal of your %1$s plan was not paid in time, so your membership moved to the %2$s plan.', 'plan-bridge' ), $from, $plan );
				break;
			case 'renewal_coming':
				$when    = isset( $d['renews_at'] ) ? substr( (string) $d['renews_at'], 0, 10 ) : '';
				$subject = __( 'Your membership renews soon', 'plan-bridge' );
				/* translators: 1: plan name, 2: date (YYYY-MM-DD), 3: amount with currency and tax. */
				$text = sprintf( __( 'Your %1$s plan renews on %2$s for %3$s (tax included). You can change or cancel it on the Account page before then.', 'plan-bridge' ), $plan, $when, $money( 'amount' ) );
				break;
			case 'trial_ending':
				$when    = isset( $d['trial_end'] ) ? substr( (string) $d['trial_end'], 0, 10 ) : '';
				$subject = __( 'Your trial ends soon', 'plan-bridge' );
				/* translators: 1: plan name, 2: date (YYYY-MM-DD). */
				$text = sprintf( __( 'Your trial of the %1$s plan ends on %2$s. See your membership and its next billing date on the Account page.', 'plan-bridge' ), $plan, $when );
				break;
			case 'payment_failed':
				$subject = __( 'Your payment failed', 'plan-bridge' );
				/* translators: 1: amount with currency, 2: invoice number. */
				$text = sprintf( __( 'We could not charge %1$s for invoice %2$s to your card. Please pay it or replace your payment method on the Account page.', 'plan-bridge' ), $money( 'amount' ), isset( $d['invoice_number'] ) ? (string) $d['invoice_number'] : '' );
				break;
			default: // visits_80.
				/* translators: %s: a share of the month's visits, "80 %". */
				$subject = sprintf( __( 'Your site has used %s of this month\'s visits', 'plan-bridge' ), '80 %' );
				/* translators: 1: visits so far, 2: the monthly visits limit. */
				$text = sprintf( __( 'Your site has had %1$s of its %2$s visits this month.', 'plan-bridge' ), number_format_i18n( isset( $d['used'] ) ? (int) $d['used'] : 0 ), number_format_i18n( isset( $d['limit'] ) ? (int) $d['limit'] : 0 ) );
		}
		/* translators: %s: link to the Account page in wp-admin. */
		$text .= "\n\n" . sprintf( __( 'Your Membership: %s', 'plan-bridge' ), Bridge_Settings::account_url( $doc['site_id'] ) ) . "\n";
		return array( $subject, $text );
	}

	/**
	 * After a counted visit: the 80 % notice to the site's owner (the admin e-mail's user), once
	 * a month, when the pushed document says it is on.
	 *
	 * @param int|null $limit The monthly visits limit.
	 */
	public static function after_visit( $limit ) {
		$month = ( new DateTimeImmutable( 'now', wp_timezone() ) )->format( 'Ym' );
		if ( null === $limit || get_option( self::VISITS_OPTION ) === $month ) {
			return; // unlimited, or this month's notice is sent.
		}
		$site_doc = Bridge_Limits_Store::site_document();
		$on       = ! is_array( $site_doc ) || ! isset( $site_doc['notices']['visits_80'] ) || true === $site_doc['notices']['visits_80'];
		$used     = Bridge_Visits::this_month();
		if ( ! Bridge_Notice_Log::visits_due( $on, $used, $limit ) ) {
			return;
		}
		$email = (string) get_option( 'admin_email' );
		$user  = get_user_by( 'email', $email );
		$doc   = array(
			'id'      => Bridge_Notice_Log::visits_id( get_current_blog_id(), $month ),
			'kind'    => 'visits_80',
			'site_id' => get_current_blog_id(),
			'data'    => array(
				'used'  => $used,
				'limit' => $limit,
			),
		);
		$result = self::send( $doc, $email, $user ? get_user_locale( $user ) : get_locale() );
		if ( ! is_wp_error( $result ) ) {
			update_option( self::VISITS_OPTION, $month, false );
		}
	}

	/**
	 * The Network Admin page's list of the last notices sent.
	 */
	public static function render_log() {
		$log = get_site_option( self::LOG_OPTION, array() );
		echo '<h2>' . esc_html__( 'Last notices sent', 'plan-bridge' ) . '</h2>';
		if ( ! is_array( $log ) || array() === $log ) {
			echo '<p id="plan-bridge-notices">' . esc_html__( 'None yet.', 'plan-bridge' ) . '</p>';
			return;
		}
		$format = get_option( 'date_format' ) . ' ' . get_option( 'time_format' );
		echo '<table class="widefat striped" id="plan-bridge-notices"><thead><tr><th>' . esc_html__( 'Sent', 'plan-bridge' ) . '</th><th>' . esc_html__( 'Notice', 'plan-bridge' ) . '</th><th>' . esc_html__( 'Site', 'plan-bridge' ) . '</th><th>' . esc_html__( 'To', 'plan-bridge' ) . '</th></tr></thead><tbody>';
		foreach ( $log as $entry ) {
			echo '<tr><td>' . esc_html( wp_date( $format, (int) $entry['at'] ) ) . '</td><td>' . esc_html( (string) $entry['kind'] ) . '</td><td>' . esc_html( (string) $entry['site_id'] ) . '</td><td>' . esc_html( (string) $entry['to'] . ' (' . (string) $entry['locale'] . ')' ) . '</td></tr>';
		}
		echo '</tbody></table>';
	}
}
