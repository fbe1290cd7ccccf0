<?php
/**
 * Settings read from wp-config.php constants (and one network option).
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The bridge URL, the shared secret and the keys derived from it.
 */
class Bridge_Settings {

	/**
	 * The bridge's public URL without a trailing slash, or '' when not configured.
	 *
	 * @return string
	 */
	public static function bridge_url() {
		return defined( 'PLAN_BRIDGE_URL' ) ? untrailingslashit( (string) PLAN_BRIDGE_URL ) : '';
	}

	/**
	 * The operator's secret, or '' when not configured.
	 *
	 * @return string
	 */
	public static function secret() {
		return defined( 'PLAN_BRIDGE_SECRET' ) ? (string) PLAN_BRIDGE_SECRET : '';
	}

	/**
	 * The secret before the last rotation, or '' when none is configured (PLAN_BRIDGE_SECRET_PREVIOUS).
	 *
	 * Only ever used to verify incoming pushes; the plugin signs with the current secret.
	 *
	 * @return string
	 */
	public static function previous_secret() {
		return defined( 'PLAN_BRIDGE_SECRET_PREVIOUS' ) ? (string) PLAN_BRIDGE_SECRET_PREVIOUS : '';
	}

	/**
	 * Keys that may have signed an incoming push: the current secret's, then the previous one's.
	 *
	 * @return array<int,string>
	 */
	public static function push_keys() {
		return Bridge_Signature::derive_keys( array( self::secret(), self::previous_secret() ), 'push' );
	}

	/**
	 * Whether the secret is present and well formed.
	 *
	 * @return bool
	 */
	public static function has_valid_secret() {
		return null !== Bridge_Signature::secret_bytes( self::secret() );
	}

	/**
	 * Raw key bytes for a purpose ("events", "push", "token"), or null.
	 *
	 * @param string $purpose Purpose.
	 * @return string|null
	 */
	public static function key( $purpose ) {
		if ( '' === self::secret() ) {
			return null;
		}
		return Bridge_Signature::derive_key( self::secret(), $purpose );
	}

	/**
	 * The secret for display: prefix and last four characters only.
	 *
	 * @return string
	 */
	public static function masked_secret() {
		$secret = self::secret();
		if ( '' === $secret ) {
			return '';
		}
		return 'whsec_' . str_repeat( '•', 12 ) . substr( $secret, -4 );
	}

	/**
	 * What happens when a site is over its visits limit: "notice" or "unavailable".
	 *
	 * The constant PLAN_BRIDGE_VISITS_OVER_LIMIT wins over the network option
	 * plan_bridge_visits_over_limit; the default is "notice".
	 *
	 * @return string
	 */
	public static function visits_over_limit() {
		$value = defined( 'PLAN_BRIDGE_VISITS_OVER_LIMIT' )
			? (string) PLAN_BRIDGE_VISITS_OVER_LIMIT
			: (string) get_site_option( 'plan_bridge_visits_over_limit', 'notice' );
		return 'unavailable' === $value ? 'unavailable' : 'notice';
	}

	/**
	 * Where the policy comes from, for the Network Admin page.
	 *
	 * @return bool True when set by the constant.
	 */
	public static function visits_policy_from_constant() {
		return defined( 'PLAN_BRIDGE_VISITS_OVER_LIMIT' );
	}

	/**
	 * The Account page URL of a site.
	 *
	 * @param int|null $blog_id Blog id, or null for the current site.
	 * @return string
	 */
	public static function account_url( $blog_id = null ) {
		return get_admin_url( $blog_id, 'admin.php?page=plan-bridge-account' );
	}
}
