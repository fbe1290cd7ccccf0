<?php
/**
 * Network Admin → Settings → Plan Bridge: read-only view of the configuration and its health.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Shows the wp-config settings (secret masked), the connection status and conflicts.
 */
class Bridge_Network_Page {

	const SLUG = 'plan-bridge';

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action( 'network_admin_menu', array( __CLASS__, 'menu' ) );
	}

	/**
	 * Menu entry under Settings.
	 */
	public static function menu() {
		add_submenu_page(
			'settings.php',
			__( 'Plan Bridge', 'plan-bridge' ),
			__( 'Plan Bridge', 'plan-bridge' ),
			'manage_network_options',
			self::SLUG,
			array( __CLASS__, 'render' )
		);
	}

	/**
	 * Whether Ultimate Multisite (formerly WP Ultimo) is active on the network.
	 *
	 * @return bool
	 */
	public static function ultimate_multisite_active() {
		if ( class_exists( 'WP_Ultimo' ) || defined( 'WP_ULTIMO_PLUGIN_FILE' ) ) {
			return true;
		}
		$active = (array) get_site_option( 'active_sitewide_plugins', array() );
		foreach ( array_keys( $active ) as $plugin ) {
			if ( false !== strpos( $plugin, 'ultimate-multisite' ) || false !== strpos( $plugin, 'wp-ultimo' ) ) {
				return true;
			}
		}
		return false;
	}

	/**
	 * A stored delivery error in the reader's language: the plugin's own "not configured" is
	 * translated; an error from the transport or the bridge is shown as it came.
	 *
	 * @param string $error Stored error.
	 * @return string
	 */
	private static function delivery_error( $error ) {
		if ( Bridge_Events::NOT_CONFIGURED === $error ) {
			return __( 'Not configured: set the bridge URL and secret in wp-config.php.', 'plan-bridge' );
		}
		return $error;
	}

	/**
	 * A live check of the bridge URL: a short GET, any HTTP answer means reachable.
	 *
	 * @return string
	 */
	private static function connection_status() {
		$url = Bridge_Settings::bridge_url();
		if ( '' === $url || ! Bridge_Settings::has_valid_secret() ) {
			return __( 'Not configured', 'plan-bridge' );
		}
		$response = wp_remote_get( $url . '/', array( 'timeout' => 3 ) );
		if ( is_wp_error( $response ) ) {
			/* translators: %s: error message. */
			return sprintf( __( 'Unreachable: %s', 'plan-bridge' ), $response->get_error_message() );
		}
		/* translators: %s: HTTP status code. */
		return sprintf( __( 'Reachable (HTTP %s)', 'plan-bridge' ), wp_remote_retrieve_response_code( $response ) );
	}

	/**
	 * Whether a previous secret is configured, never any part of it.
	 *
	 * @return string
	 */
	private static function previous_secret_status() {
		$previous = Bridge_Settings::previous_secret();
		if ( '' === $previous ) {
			return __( 'Not set', 'plan-bridge' );
		}
		if ( null === Bridge_Signature::secret_bytes( $previous ) ) {
			return __( 'Set, but not a valid whsec_ secret: it is ignored', 'plan-bridge' );
		}
		return __( 'Set: pushes signed with it are still accepted. Remove it once the rotation is done.', 'plan-bridge' );
	}

	/**
	 * A row.
	 *
	 * @param string $label Label.
	 * @param string $value Plain text.
	 */
	private static function row( $label, $value ) {
		printf( '<tr><th scope="row">%1$s</th><td>%2$s</td></tr>', esc_html( $label ), esc_html( $value ) );
	}

	/**
	 * The page.
	 */
	public static function render() {
		if ( ! current_user_can( 'manage_network_options' ) ) {
			return;
		}
		$never    = __( 'Never', 'plan-bridge' );
		$format   = get_option( 'date_format' ) . ' ' . get_option( 'time_format' );
		$delivery = Bridge_Events::delivery_status();
		$defaults = Bridge_Limits_Store::default_document();
		echo '<div class="wrap"><h1>' . esc_html__( 'Plan Bridge', 'plan-bridge' ) . '</h1>';
		if ( self::ultimate_multisite_active() ) {
			echo '<div class="notice notice-warning inline" id="plan-bridge-um-warning"><p>' .
				esc_html__( 'Ultimate Multisite is active on this network. Both plugins would enforce limits on the sites; keep only one of them in charge of limits.', 'plan-bridge' ) .
				'</p></div>';
		}
		echo '<p>' . esc_html__( 'These settings come from wp-config.php and cannot be changed here.', 'plan-bridge' ) . '</p>';
		echo '<table class="form-table" role="presentation"><tbody>';
		self::row( __( 'Bridge URL (PLAN_BRIDGE_URL)', 'plan-bridge' ), '' !== Bridge_Settings::bridge_url() ? Bridge_Settings::bridge_url() : __( 'Not set', 'plan-bridge' ) );
		self::row(
			__( 'Shared secret (PLAN_BRIDGE_SECRET)', 'plan-bridge' ),
			'' === Bridge_Settings::secret() ? __( 'Not set', 'plan-bridge' ) : Bridge_Settings::masked_secret() . ( Bridge_Settings::has_valid_secret() ? '' : ' — ' . __( 'not a valid whsec_ secret', 'plan-bridge' ) )
		);
		self::row( __( 'Previous secret (PLAN_BRIDGE_SECRET_PREVIOUS)', 'plan-bridge' ), self::previous_secret_status() );
		self::row(
			__( 'Over the visits limit', 'plan-bridge' ),
			( 'unavailable' === Bridge_Settings::visits_over_limit() ? __( 'Show a "temporarily unavailable" page (503)', 'plan-bridge' ) : __( 'Show a notice only', 'plan-bridge' ) )
			. ( Bridge_Settings::visits_policy_from_constant() ? ' (PLAN_BRIDGE_VISITS_OVER_LIMIT)' : ' (plan_bridge_visits_over_limit)' )
		);
		self::row( __( 'Connection status', 'plan-bridge' ), self::connection_status() );
		self::row( __( 'Last event delivered', 'plan-bridge' ), isset( $delivery['last_success'] ) ? wp_date( $format, (int) $delivery['last_success'] ) : $never );
		self::row(
			__( 'Last delivery error', 'plan-bridge' ),
			isset( $delivery['last_error'] ) ? wp_date( $format, (int) $delivery['last_error_at'] ) . ': ' . self::delivery_error( (string) $delivery['last_error'] ) : $never
		);
		self::row( __( 'Events waiting to be sent', 'plan-bridge' ), number_format_i18n( Bridge_Events::count_queued() ) );
		$overflow = Bridge_Events::overflow();
		self::row(
			__( 'Usage reports dropped because the queue was full', 'plan-bridge' ),
			0 === $overflow['count'] ? __( 'None', 'plan-bridge' ) : sprintf(
				/* translators: 1: how many usage reports were dropped, 2: date and time of the last one. */
				__( '%1$s (the last on %2$s)', 'plan-bridge' ),
				number_format_i18n( $overflow['count'] ),
				wp_date( $format, $overflow['last_at'] )
			)
		);
		self::row( __( 'Default limits version', 'plan-bridge' ), null === $defaults ? __( 'None received yet', 'plan-bridge' ) : (string) $defaults['version'] );
		echo '</tbody></table>';
		Bridge_Notices::render_log();
		self::console_button();
		echo '</div>';
	}

	/**
	 * For super admins: a button that opens the bridge's console, signed in by a single-use
	 * operator token (five minutes) made with the operator key derived from the shared secret.
	 */
	private static function console_button() {
		$url = Bridge_Settings::bridge_url();
		$key = Bridge_Settings::key( 'operator' );
		if ( ! is_super_admin() || '' === $url || null === $key ) {
			return;
		}
		$user  = wp_get_current_user();
		$token = Bridge_Token::mint( $key, Bridge_Token::operator_payload( $user->ID, $user->user_login, time() ) );
		echo '<h2>' . esc_html__( 'Catalog and plan groups', 'plan-bridge' ) . '</h2>';
		echo '<form method="post" id="plan-bridge-console" action="' . esc_url( $url . '/admin/sign-in' ) . '">';
		echo '<input type="hidden" name="token" value="' . esc_attr( $token ) . '">';
		echo '<p>' . esc_html__( 'Products, prices, plan groups and their upgrade paths are managed in the bridge\'s console.', 'plan-bridge' ) . '</p>';
		submit_button( __( 'Open the Plan Bridge console', 'plan-bridge' ), 'primary', 'submit', false );
		echo '</form>';
	}
}
