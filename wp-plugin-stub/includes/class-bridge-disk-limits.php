<?php
/**
 * Disk limits through WordPress's own multisite upload quota.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Maps `disk_mb` onto `blog_upload_space` and keeps the network's quota check on.
 */
class Bridge_Disk_Limits {

	/**
	 * Hooks.
	 */
	public static function register() {
		add_filter( 'get_space_allowed', array( __CLASS__, 'space_allowed' ) );
		add_filter( 'pre_site_option_upload_space_check_disabled', array( __CLASS__, 'check_disabled' ) );
	}

	/**
	 * Stores a site's disk limit where WordPress looks for it.
	 *
	 * @param int|null $disk_mb Limit in MB, null for unlimited.
	 */
	public static function apply_to_site( $disk_mb ) {
		if ( null === $disk_mb ) {
			delete_option( 'blog_upload_space' );
		} else {
			update_option( 'blog_upload_space', (int) $disk_mb );
		}
		self::ensure_quota_checked();
	}

	/**
	 * WordPress ships with the quota check off (`upload_space_check_disabled` = 1); turn it on.
	 */
	public static function ensure_quota_checked() {
		remove_filter( 'pre_site_option_upload_space_check_disabled', array( __CLASS__, 'check_disabled' ) );
		if ( '0' !== (string) get_site_option( 'upload_space_check_disabled' ) ) {
			update_site_option( 'upload_space_check_disabled', 0 );
		}
		add_filter( 'pre_site_option_upload_space_check_disabled', array( __CLASS__, 'check_disabled' ) );
	}

	/**
	 * The quota of a site that has limits (own or network defaults) is its disk limit.
	 *
	 * @param int|float $allowed MB allowed by WordPress.
	 * @return int|float
	 */
	public static function space_allowed( $allowed ) {
		if ( ! Bridge_Limits_Store::has_limits() ) {
			return $allowed;
		}
		$disk_mb = Bridge_Document::limit( Bridge_Limits_Store::effective_limits(), 'disk_mb' );
		return null === $disk_mb ? $allowed : $disk_mb;
	}

	/**
	 * An unlimited disk limit switches the quota check off for that site only.
	 *
	 * The network settings screen reads and saves the real value, so it is left alone there.
	 *
	 * @param mixed $pre False to let WordPress read the option.
	 * @return mixed
	 */
	public static function check_disabled( $pre ) {
		if ( is_network_admin() || ! Bridge_Limits_Store::has_limits() ) {
			return $pre;
		}
		$disk_mb = Bridge_Document::limit( Bridge_Limits_Store::effective_limits(), 'disk_mb' );
		return null === $disk_mb ? 1 : $pre;
	}
}
