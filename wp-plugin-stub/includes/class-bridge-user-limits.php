<?php
/**
 * Users per site: adding a user beyond the limit is refused with a clear message.
 *
 * The gate is WordPress's `can_add_user_to_blog` filter (every path ends in add_user_to_blog());
 * the REST API and the Users → Add New screen are refused earlier, before a network account is
 * created for nothing.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Enforces the `users` limit.
 */
class Bridge_User_Limits {

	/**
	 * Hooks.
	 */
	public static function register() {
		add_filter( 'can_add_user_to_blog', array( __CLASS__, 'can_add' ), 10, 2 );
		add_filter( 'rest_request_before_callbacks', array( __CLASS__, 'filter_rest' ), 10, 3 );
		add_action( 'admin_action_adduser', array( __CLASS__, 'refuse_admin_form' ) );
		add_action( 'admin_action_createuser', array( __CLASS__, 'refuse_admin_form' ) );
		add_action( 'admin_notices', array( __CLASS__, 'notice' ) );
	}

	/**
	 * The limit when the current site is full, else null.
	 *
	 * @return int|null
	 */
	public static function full_limit() {
		$limit = Bridge_Document::limit( Bridge_Limits_Store::effective_limits(), 'users' );
		if ( Bridge_Document::allows_one_more( $limit, Bridge_Usage::users() ) ) {
			return null;
		}
		return $limit;
	}

	/**
	 * The message, plain text.
	 *
	 * @param int  $limit    Limit.
	 * @param bool $with_url Append the Account page address.
	 * @return string
	 */
	public static function message( $limit, $with_url ) {
		$message = sprintf(
			/* translators: %s: a number of users. */
			_n(
				'Limit reached: your plan allows %s user on this site, so no user can be added.',
				'Limit reached: your plan allows %s users on this site, so no user can be added.',
				(int) $limit,
				'plan-bridge'
			),
			number_format_i18n( $limit )
		);
		if ( $with_url ) {
			$message .= ' ' . sprintf(
				/* translators: %s: address of the Account page. */
				__( 'To add more, change your plan on the Account page: %s', 'plan-bridge' ),
				Bridge_Settings::account_url()
			);
		}
		return $message;
	}

	/**
	 * The error returned everywhere.
	 *
	 * @param int $limit Limit.
	 * @return WP_Error
	 */
	private static function error( $limit ) {
		return new WP_Error(
			Bridge_Post_Limits::ERROR_CODE,
			self::message( $limit, true ),
			array(
				'status'      => 403,
				'limit'       => $limit,
				'account_url' => Bridge_Settings::account_url(),
			)
		);
	}

	/**
	 * Filter can_add_user_to_blog (runs switched to the target site).
	 *
	 * @param true|WP_Error $allowed Result so far.
	 * @param int           $user_id User.
	 * @return true|WP_Error
	 */
	public static function can_add( $allowed, $user_id ) {
		if ( true !== $allowed || is_super_admin( $user_id ) || is_user_member_of_blog( $user_id ) ) {
			return $allowed;
		}
		$limit = self::full_limit();
		return null === $limit ? $allowed : self::error( $limit );
	}

	/**
	 * REST: refuse `POST /wp/v2/users` on a full site before the network account is created.
	 *
	 * (rest_pre_insert_user cannot refuse: WordPress 6.1 does not check its result for errors.)
	 *
	 * @param mixed           $response Result so far (null to let the callback run).
	 * @param array           $handler  Route handler.
	 * @param WP_REST_Request $request  Request.
	 * @return mixed
	 */
	public static function filter_rest( $response, $handler, $request ) {
		if ( null !== $response || 'POST' !== $request->get_method() || '/wp/v2/users' !== untrailingslashit( $request->get_route() ) ) {
			return $response;
		}
		$limit = self::full_limit();
		return null === $limit ? $response : self::error( $limit );
	}

	/**
	 * Users → Add New: back to the form with the message instead of a generic failure.
	 */
	public static function refuse_admin_form() {
		global $pagenow;
		if ( 'user-new.php' !== $pagenow || null === self::full_limit() ) {
			return;
		}
		wp_safe_redirect( add_query_arg( 'plan_bridge_users_full', 1, admin_url( 'user-new.php' ) ) );
		exit;
	}

	/**
	 * The notice on Users → Add New when the site is full.
	 */
	public static function notice() {
		global $pagenow;
		if ( 'user-new.php' !== $pagenow ) {
			return;
		}
		$limit = self::full_limit();
		if ( null === $limit ) {
			return;
		}
		printf(
			'<div class="notice notice-error"><p>%1$s <a href="%2$s">%3$s</a></p></div>',
			esc_html( self::message( $limit, false ) ),
			esc_url( Bridge_Settings::account_url() ),
			esc_html__( 'Change your plan on the Account page', 'plan-bridge' )
		);
	}
}
