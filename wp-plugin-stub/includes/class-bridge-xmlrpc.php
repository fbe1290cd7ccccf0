<?php
/**
 * XML-RPC receiver: bridge.setLimits and bridge.setDefaultLimits(body, id, timestamp, signature).
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The same signed documents as the REST routes, with the signature as method parameters.
 */
class Bridge_Xmlrpc {

	/**
	 * Hooks.
	 */
	public static function register() {
		add_filter( 'xmlrpc_methods', array( __CLASS__, 'methods' ) );
	}

	/**
	 * Adds the three methods.
	 *
	 * @param array<string,callable> $methods Methods.
	 * @return array<string,callable>
	 */
	public static function methods( $methods ) {
		$methods['bridge.setLimits']        = array( __CLASS__, 'set_limits' );
		$methods['bridge.setDefaultLimits'] = array( __CLASS__, 'set_default_limits' );
		$methods['bridge.sendNotice']       = array( __CLASS__, 'send_notice' );
		return $methods;
	}

	/**
	 * Method bridge.setLimits.
	 *
	 * @param array<int,mixed> $args body, webhook_id, webhook_timestamp, webhook_signature.
	 * @return array<string,mixed>|IXR_Error
	 */
	public static function set_limits( $args ) {
		return self::handle( 'site', $args );
	}

	/**
	 * Method bridge.setDefaultLimits.
	 *
	 * @param array<int,mixed> $args body, webhook_id, webhook_timestamp, webhook_signature.
	 * @return array<string,mixed>|IXR_Error
	 */
	public static function set_default_limits( $args ) {
		return self::handle( 'defaults', $args );
	}

	/**
	 * Method bridge.sendNotice.
	 *
	 * @param array<int,mixed> $args body, webhook_id, webhook_timestamp, webhook_signature.
	 * @return array<string,mixed>|IXR_Error
	 */
	public static function send_notice( $args ) {
		return self::handle( 'notice', $args );
	}

	/**
	 * Verifies, applies and turns WP_Error into an IXR fault with the HTTP-like status as code.
	 *
	 * @param string $kind "site", "defaults" or "notice".
	 * @param mixed  $args Method arguments.
	 * @return array<string,mixed>|IXR_Error
	 */
	private static function handle( $kind, $args ) {
		if ( ! is_array( $args ) || 4 !== count( $args ) ) {
			return new IXR_Error( 400, __( 'This method takes four parameters: body, webhook id, timestamp and signature.', 'plan-bridge' ) );
		}
		$args   = array_map( 'strval', array_values( $args ) );
		$result = Bridge_Limits_Controller::verify( $args[0], $args[1], $args[2], $args[3] );
		if ( true === $result ) {
			$result = 'notice' === $kind ? Bridge_Notices::receive( $args[0] ) : Bridge_Limits_Controller::receive( $kind, $args[0] );
		}
		if ( is_wp_error( $result ) ) {
			$data = $result->get_error_data();
			return new IXR_Error( isset( $data['status'] ) ? (int) $data['status'] : 500, $result->get_error_message() );
		}
		return $result;
	}
}
