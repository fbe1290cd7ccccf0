<?php
/**
 * The Account page of each site: "Your Membership" with a Change button, and limits with usage.
 *
 * The page only shows what the bridge pushed (the `membership` snapshot); it computes no prices.
 * Change and Cancel post to admin-post.php, which mints a single-use checkout token and sends the
 * browser to the bridge's checkout.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Renders wp-admin → Account and starts checkouts.
 */
class Bridge_Account_Page {

	const SLUG       = 'plan-bridge-account';
	const ACTION     = 'plan_bridge_checkout';
	const CAPABILITY = 'manage_options';

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action( 'admin_menu', array( __CLASS__, 'menu' ) );
		add_action( 'admin_post_' . self::ACTION, array( __CLASS__, 'start_checkout' ) );
		add_filter( 'allowed_redirect_hosts', array( __CLASS__, 'allow_bridge_host' ) );
	}

	/**
	 * Menu entry "Account".
	 */
	public static function menu() {
		add_menu_page(
			__( 'Account', 'plan-bridge' ),
			__( 'Account', 'plan-bridge' ),
			self::CAPABILITY,
			self::SLUG,
			array( __CLASS__, 'render' ),
			'dashicons-id-alt',
			3
		);
	}

	/**
	 * The bridge is a safe redirect target.
	 *
	 * @param string[] $hosts Allowed hosts.
	 * @return string[]
	 */
	public static function allow_bridge_host( $hosts ) {
		$host = wp_parse_url( Bridge_Settings::bridge_url(), PHP_URL_HOST );
		if ( $host ) {
			$hosts[] = $host;
		}
		return $hosts;
	}

	/**
	 * admin-post.php?action=plan_bridge_checkout: mint a token and go to the bridge.
	 */
	public static function start_checkout() {
		check_admin_referer( self::ACTION );
		if ( ! current_user_can( self::CAPABILITY ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage this site.', 'plan-bridge' ), '', array( 'response' => 403 ) );
		}
		$key = Bridge_Settings::key( 'token' );
		$url = Bridge_Settings::bridge_url();
		if ( null === $key || '' === $url ) {
			wp_die( esc_html__( 'The connection to the billing service is not configured. Please contact the network administrator.', 'plan-bridge' ), '', array( 'response' => 503 ) );
		}
		$intent = isset( $_POST['intent'] ) && 'cancel_scheduled' === sanitize_key( wp_unslash( $_POST['intent'] ) ) ? 'cancel_scheduled' : 'change';
		$token  = Bridge_Token::mint(
			$key,
			Bridge_Token::payload(
				get_current_blog_id(),
				get_current_user_id(),
				get_user_locale(),
				Bridge_Settings::account_url(),
				$intent,
				time()
			)
		);
		wp_safe_redirect( $url . '/checkout/start?token=' . rawurlencode( $token ) );
		exit;
	}

	/**
	 * Currency symbols per language where CLDR (as the checkout's Babel) gives one; any other
	 * currency is written with its ISO code, as the checkout does.
	 */
	const SYMBOLS = array(
		'en' => array( 'USD' => '$', 'EUR' => '€', 'GBP' => '£' ),
		'ms' => array( 'MYR' => 'RM', 'EUR' => '€', 'GBP' => '£' ),
		'id' => array( 'USD' => 'US$', 'IDR' => 'Rp', 'EUR' => '€', 'GBP' => '£' ),
		'nb' => array( 'NOK' => 'kr', 'EUR' => '€', 'GBP' => '£' ),
	);

	/**
	 * A money amount as pushed ("60.00") in the reader's locale, as the checkout writes it:
	 * "RM60.00" (ms), "$60.00" (en), "60,00 USD" (nb); the pushed number of decimals is kept.
	 *
	 * @param mixed  $amount   Decimal string.
	 * @param string $currency ISO code.
	 * @return string
	 */
	public static function money( $amount, $currency ) {
		$amount   = (string) $amount;
		$decimals = false === strpos( $amount, '.' ) ? 0 : strlen( $amount ) - strpos( $amount, '.' ) - 1;
		$number   = number_format_i18n( abs( (float) $amount ), $decimals );
		$sign     = (float) $amount < 0 ? '-' : '';
		return $sign . self::with_currency( $number, (string) $currency, get_user_locale() );
	}

	/**
	 * The network's tax by its own name and rate ("MVA 25 %"); empty without a tax.
	 *
	 * @param array<string,mixed> $tax The pushed document's `tax` ({name, rate, mode}).
	 * @return string
	 */
	private static function tax_label( array $tax ) {
		if ( empty( $tax['name'] ) || ! isset( $tax['rate'] ) ) {
			return '';
		}
		$rate     = (string) $tax['rate'];
		$decimals = false === strpos( $rate, '.' ) ? 0 : strlen( $rate ) - strpos( $rate, '.' ) - 1;
		$language = strtolower( substr( (string) get_user_locale(), 0, 2 ) );
		// Norwegian writes a (no-break) space before the percent sign, as CLDR and the checkout do.
		$sign = in_array( $language, array( 'nb', 'no', 'nn' ), true ) ? "\u{00A0}%" : '%';
		return (string) $tax['name'] . ' ' . number_format_i18n( (float) $rate, $decimals ) . $sign;
	}

	/**
	 * A formatted number with the currency's symbol or code placed as the locale does.
	 *
	 * @param string $number   Formatted number.
	 * @param string $currency ISO code.
	 * @param string $locale   WordPress locale, e.g. nb_NO.
	 * @return string
	 */
	public static function with_currency( $number, $currency, $locale ) {
		$language = strtolower( substr( (string) $locale, 0, 2 ) );
		$language = in_array( $language, array( 'no', 'nn' ), true ) ? 'nb' : $language;
		$symbol   = isset( self::SYMBOLS[ $language ][ $currency ] ) ? self::SYMBOLS[ $language ][ $currency ] : $currency;
		if ( 'nb' === $language ) {
			return $number . "\u{00A0}" . $symbol;
		}
		return $symbol . $number;
	}

	/**
	 * A date as pushed (ISO 8601) in the site's date format.
	 *
	 * @param mixed $iso Date.
	 * @return string
	 */
	public static function date( $iso ) {
		$ts = is_string( $iso ) ? strtotime( $iso ) : false;
		return false === $ts ? '' : wp_date( get_option( 'date_format' ), $ts );
	}

	/**
	 * "per month", "every 3 months", "one-time payment".
	 *
	 * @param mixed $billing Billing object or "once".
	 * @return string
	 */
	private static function period( $billing ) {
		if ( ! is_array( $billing ) ) {
			return __( 'one-time payment', 'plan-bridge' );
		}
		$every = isset( $billing['every'] ) ? (int) $billing['every'] : 1;
		$unit  = isset( $billing['unit'] ) ? (string) $billing['unit'] : 'month';
		if ( 1 === $every ) {
			$single = array(
				'day'   => __( 'per day', 'plan-bridge' ),
				'week'  => __( 'per week', 'plan-bridge' ),
				'month' => __( 'per month', 'plan-bridge' ),
				'year'  => __( 'per year', 'plan-bridge' ),
			);
			return isset( $single[ $unit ] ) ? $single[ $unit ] : $unit;
		}
		$many = array(
			/* translators: %s: a number of days. */
			'day'   => __( 'every %s days', 'plan-bridge' ),
			/* translators: %s: a number of weeks. */
			'week'  => __( 'every %s weeks', 'plan-bridge' ),
			/* translators: %s: a number of months. */
			'month' => __( 'every %s months', 'plan-bridge' ),
			/* translators: %s: a number of years. */
			'year'  => __( 'every %s years', 'plan-bridge' ),
		);
		return isset( $many[ $unit ] ) ? sprintf( $many[ $unit ], number_format_i18n( $every ) ) : $unit;
	}

	/**
	 * A membership status for people.
	 *
	 * @param string $status Status from the bridge.
	 * @return string
	 */
	private static function status( $status ) {
		$labels = array(
			'active'    => __( 'Active', 'plan-bridge' ),
			'trialing'  => __( 'Trial', 'plan-bridge' ),
			'pending'   => __( 'Waiting for payment', 'plan-bridge' ),
			'past_due'  => __( 'Payment overdue', 'plan-bridge' ),
			'cancelled' => __( 'Cancelled', 'plan-bridge' ),
			'canceled'  => __( 'Cancelled', 'plan-bridge' ),
			'expired'   => __( 'Expired', 'plan-bridge' ),
		);
		return isset( $labels[ $status ] ) ? $labels[ $status ] : $status;
	}

	/**
	 * A small form that posts to admin-post.php.
	 *
	 * @param string $intent "change" or "cancel_scheduled".
	 * @param string $label  Button text.
	 * @param string $class  Button classes.
	 */
	private static function button( $intent, $label, $class ) {
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" style="display:inline">';
		echo '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '">';
		echo '<input type="hidden" name="intent" value="' . esc_attr( $intent ) . '">';
		wp_nonce_field( self::ACTION );
		echo '<button type="submit" class="' . esc_attr( $class ) . '">' . esc_html( $label ) . '</button></form>';
	}

	/**
	 * The notice after coming back from the bridge.
	 */
	private static function result_notice() {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- display only.
		$result   = isset( $_GET['plan_bridge_result'] ) ? sanitize_key( wp_unslash( $_GET['plan_bridge_result'] ) ) : '';
		$messages = array(
			'applied'   => __( 'Your membership has been changed.', 'plan-bridge' ),
			'pending'   => __( 'Your change will apply as soon as the payment is confirmed.', 'plan-bridge' ),
			'scheduled' => __( 'Your change is scheduled.', 'plan-bridge' ),
			'cancelled' => __( 'The scheduled change has been cancelled.', 'plan-bridge' ),
			'unchanged' => __( 'This change leaves your membership as it is.', 'plan-bridge' ),
		);
		if ( isset( $messages[ $result ] ) ) {
			printf( '<div class="notice notice-info is-dismissible"><p>%s</p></div>', esc_html( $messages[ $result ] ) );
		}
	}

	/**
	 * One row of the definition list.
	 *
	 * @param string $term  Label.
	 * @param string $value Value (plain text).
	 */
	private static function row( $term, $value ) {
		printf( '<tr><th scope="row">%1$s</th><td>%2$s</td></tr>', esc_html( $term ), esc_html( $value ) );
	}

	/**
	 * The page.
	 */
	public static function render() {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		$membership = Bridge_Limits_Store::membership();
		echo '<div class="wrap plan-bridge-account"><h1>' . esc_html__( 'Account', 'plan-bridge' ) . '</h1>';
		self::result_notice();
		echo '<div class="postbox" id="plan-bridge-membership" style="margin-top:1em"><div class="postbox-header" style="display:flex;justify-content:space-between;align-items:center;padding:0 12px">';
		echo '<h2 class="hndle">' . esc_html__( 'Your Membership', 'plan-bridge' ) . '</h2><div>';
		self::button( 'change', __( 'Change', 'plan-bridge' ), 'button button-primary' );
		echo '</div></div><div class="inside">';
		if ( null === $membership ) {
			echo '<p>' . esc_html__( 'This site has no membership yet.', 'plan-bridge' ) . '</p>';
		} else {
			self::render_membership( $membership );
			Bridge_Receipts::render(
				$membership,
				array( __CLASS__, 'money' ),
				array( __CLASS__, 'date' )
			);
		}
		self::render_limits();
		echo '</div></div></div>';
	}

	/**
	 * The membership table.
	 *
	 * @param array<string,mixed> $m Membership snapshot.
	 */
	private static function render_membership( array $m ) {
		$currency = isset( $m['currency'] ) ? (string) $m['currency'] : '';
		echo '<table class="form-table" role="presentation"><tbody>';
		self::row( __( 'Plan', 'plan-bridge' ), isset( $m['plan']['name'] ) ? (string) $m['plan']['name'] : '' );
		if ( isset( $m['price'] ) ) {
			self::row( __( 'Price', 'plan-bridge' ), self::money( $m['price'], $currency ) . ' ' . self::period( isset( $m['billing'] ) ? $m['billing'] : 'once' ) );
		}
		self::row( __( 'Status', 'plan-bridge' ), self::status( isset( $m['status'] ) ? (string) $m['status'] : '' ) );
		if ( ! empty( $m['trial_end'] ) ) {
			self::row( __( 'Trial ends', 'plan-bridge' ), self::date( $m['trial_end'] ) );
		}
		$tax = isset( $m['tax'] ) && is_array( $m['tax'] ) ? self::tax_label( $m['tax'] ) : '';
		if ( '' !== $tax ) {
			$exclusive = isset( $m['tax']['mode'] ) && 'exclusive' === $m['tax']['mode'];
			self::row(
				__( 'Tax', 'plan-bridge' ),
				sprintf(
					$exclusive
						/* translators: %s: the tax with its rate, e.g. "MVA 25 %". */
						? __( '%s, added to the prices', 'plan-bridge' )
						/* translators: %s: the tax with its rate, e.g. "PPN 11 %". */
						: __( '%s, included in the prices', 'plan-bridge' ),
					$tax
				)
			);
		}
		if ( isset( $m['next_billing'] ) && is_array( $m['next_billing'] ) ) {
			$next   = $m['next_billing'];
			$amount = self::money( isset( $next['amount'] ) ? $next['amount'] : '0', $currency );
			if ( '' !== $tax && isset( $next['tax'] ) ) {
				$amount .= ' ' . sprintf(
					/* translators: 1: the tax with its rate, e.g. "MVA 25 %", 2: an amount of money. */
					__( '(of which %1$s: %2$s)', 'plan-bridge' ),
					$tax,
					self::money( $next['tax'], $currency )
				);
			}
			self::row(
				__( 'Next billing date', 'plan-bridge' ),
				sprintf(
					/* translators: 1: a date, 2: an amount of money. */
					__( '%1$s: %2$s', 'plan-bridge' ),
					self::date( isset( $next['date'] ) ? $next['date'] : '' ),
					$amount
				)
			);
		}
		$addons = isset( $m['addons'] ) && is_array( $m['addons'] ) ? $m['addons'] : array();
		$names  = array();
		foreach ( $addons as $addon ) {
			$qty     = isset( $addon['quantity'] ) ? (int) $addon['quantity'] : 1;
			$names[] = ( isset( $addon['name'] ) ? (string) $addon['name'] : '' ) . ( $qty > 1 ? ' × ' . number_format_i18n( $qty ) : '' )
				. ( isset( $addon['price'] ) ? ' (' . self::money( $addon['price'], $currency ) . ')' : '' );
		}
		self::row( __( 'Add-ons', 'plan-bridge' ), $names ? implode( ', ', $names ) : __( 'None', 'plan-bridge' ) );
		if ( isset( $m['balance'] ) && (float) $m['balance'] > 0 ) {
			self::row( __( 'Credit balance', 'plan-bridge' ), self::money( $m['balance'], $currency ) );
		}
		echo '</tbody></table>';
		if ( isset( $m['status'] ) && 'past_due' === $m['status'] ) {
			// Change leads to the open renewal invoice (paid by card with the stripe gateway).
			echo '<div class="notice notice-warning inline" id="plan-bridge-payment-due"><p>' . esc_html__( 'Your renewal invoice is not paid yet. Press Change to pay it or to see how.', 'plan-bridge' ) . '</p></div>';
		}
		if ( ! empty( $m['scheduled_change'] ) && is_array( $m['scheduled_change'] ) ) {
			$change = $m['scheduled_change'];
			echo '<div class="notice notice-info inline" id="plan-bridge-scheduled-change"><p><strong>' . esc_html__( 'Scheduled change', 'plan-bridge' ) . ':</strong> ';
			echo esc_html(
				sprintf(
					/* translators: 1: plan name, 2: a date. */
					__( 'Your plan changes to %1$s on %2$s.', 'plan-bridge' ),
					isset( $change['plan']['name'] ) ? (string) $change['plan']['name'] : '',
					self::date( isset( $change['effective_at'] ) ? $change['effective_at'] : '' )
				)
			);
			echo ' ';
			self::button( 'cancel_scheduled', __( 'Cancel the scheduled change', 'plan-bridge' ), 'button button-secondary' );
			echo '</p></div>';
		}
	}

	/**
	 * Each limit with its usage as a bar.
	 */
	private static function render_limits() {
		$limits = Bridge_Limits_Store::effective_limits();
		$usage  = Bridge_Usage::current();
		$rows   = array(
			array( __( 'Visits this month', 'plan-bridge' ), $usage['visits'], Bridge_Document::limit( $limits, 'visits' ), '' ),
			array( __( 'Disk space', 'plan-bridge' ), $usage['disk_mb'], Bridge_Document::limit( $limits, 'disk_mb' ), ' MB' ),
			array( __( 'Users', 'plan-bridge' ), $usage['users'], Bridge_Document::limit( $limits, 'users' ), '' ),
		);
		foreach ( $usage['posts'] as $type => $count ) {
			$object = get_post_type_object( $type );
			if ( $object ) {
				$rows[] = array( $object->labels->name, $count, Bridge_Document::posts_limit( $limits, $type ), '' );
			}
		}
		$rows[] = array( __( 'Custom domains', 'plan-bridge' ), $usage['custom_domains'], Bridge_Document::limit( $limits, 'custom_domains' ), '' );
		echo '<h3>' . esc_html__( 'Limits and usage', 'plan-bridge' ) . '</h3><table class="widefat striped" id="plan-bridge-limits"><tbody>';
		foreach ( $rows as $row ) {
			list( $label, $used, $limit, $unit ) = $row;
			$shown = null === $limit
				? number_format_i18n( $used ) . $unit . ' / ' . __( 'unlimited', 'plan-bridge' )
				: number_format_i18n( $used ) . $unit . ' / ' . number_format_i18n( $limit ) . $unit;
			// A limit of 0 with nothing used is not "full": only usage over it turns the bar red.
			$ratio = null === $limit ? 0 : ( $limit > 0 ? min( 100, (int) floor( $used * 100 / $limit ) ) : ( $used > 0 ? 100 : 0 ) );
			$color = $ratio >= 100 ? '#d63638' : ( $ratio >= 80 ? '#dba617' : '#2271b1' );
			printf(
				'<tr><th scope="row" style="width:30%%">%1$s</th><td><div role="progressbar" aria-label="%1$s" aria-valuemin="0" aria-valuemax="100" aria-valuenow="%2$d" style="background:#dcdcde;height:8px;border-radius:4px;max-width:400px"><div style="width:%2$d%%;background:%3$s;height:8px;border-radius:4px"></div></div><span>%4$s</span></td></tr>',
				esc_html( $label ),
				(int) $ratio,
				esc_attr( $color ),
				esc_html( $shown )
			);
		}
		echo '</tbody></table>';
	}
}
