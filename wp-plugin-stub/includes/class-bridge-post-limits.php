<?php
/**
 * Posts per post type: at the limit, one more post of that type cannot be published.
 *
 * Every way of publishing is covered: the REST API (block editor, apps) is refused with a 403
 * WP_Error `bridge_limit_reached`, XML-RPC with an IXR fault 403, and anything that reaches
 * wp_insert_post() otherwise (the classic editor, quick edit) keeps the post as a draft and shows
 * a notice. Nothing is unpublished or deleted when a limit goes down.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Enforces the `posts` limits.
 */
class Bridge_Post_Limits {

	const ERROR_CODE = 'bridge_limit_reached';

	/**
	 * Post type refused during this request (for the classic editor's notice).
	 *
	 * @var string
	 */
	private static $refused_type = '';

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action( 'rest_api_init', array( __CLASS__, 'hook_rest_types' ), 100 );
		add_filter( 'wp_insert_post_data', array( __CLASS__, 'filter_insert' ), 99, 2 );
		add_filter( 'redirect_post_location', array( __CLASS__, 'redirect_with_notice' ) );
		add_action( 'admin_notices', array( __CLASS__, 'notice' ) );
	}

	/**
	 * One `rest_pre_insert_{post_type}` filter per REST-enabled post type.
	 */
	public static function hook_rest_types() {
		foreach ( get_post_types( array( 'show_in_rest' => true ) ) as $type ) {
			add_filter( 'rest_pre_insert_' . $type, array( __CLASS__, 'filter_rest' ), 10, 2 );
		}
	}

	/**
	 * Whether moving a post of `$type` from `$old_status` to `$new_status` would exceed its limit.
	 *
	 * @param string $type       Post type.
	 * @param string $old_status Status before ('new' for a new post).
	 * @param string $new_status Status requested.
	 * @return int|null The limit that would be exceeded, or null when allowed.
	 */
	public static function exceeded_limit( $type, $old_status, $new_status ) {
		if ( ! in_array( $new_status, Bridge_Usage::COUNTED_STATUSES, true ) || in_array( $old_status, Bridge_Usage::COUNTED_STATUSES, true ) ) {
			return null;
		}
		$limit = Bridge_Document::posts_limit( Bridge_Limits_Store::effective_limits(), $type );
		if ( Bridge_Document::allows_one_more( $limit, Bridge_Usage::posts( $type ) ) ) {
			return null;
		}
		return $limit;
	}

	/**
	 * The sentence that says the limit (plain text).
	 *
	 * @param string $type  Post type.
	 * @param int    $limit Limit.
	 * @return string
	 */
	public static function limit_message( $type, $limit ) {
		$object = get_post_type_object( $type );
		$label  = $object ? $object->labels->name : $type;
		return sprintf(
			/* translators: 1: a number, 2: a post type's plural name, e.g. "Posts". */
			_n(
				'Limit reached: your plan allows %1$s published item of the type "%2$s".',
				'Limit reached: your plan allows %1$s published items of the type "%2$s".',
				(int) $limit,
				'plan-bridge'
			),
			number_format_i18n( $limit ),
			$label
		);
	}

	/**
	 * The full plain-text message with the Account page address (REST, XML-RPC).
	 *
	 * @param string $type  Post type.
	 * @param int    $limit Limit.
	 * @return string
	 */
	public static function full_message( $type, $limit ) {
		return self::limit_message( $type, $limit ) . ' ' . sprintf(
			/* translators: %s: address of the Account page. */
			__( 'To publish more, change your plan on the Account page: %s', 'plan-bridge' ),
			Bridge_Settings::account_url()
		);
	}

	/**
	 * REST: refuse before anything is written.
	 *
	 * @param stdClass|WP_Error $prepared Prepared post.
	 * @param WP_REST_Request   $request  Request.
	 * @return stdClass|WP_Error
	 */
	public static function filter_rest( $prepared, $request ) {
		if ( is_wp_error( $prepared ) || ! isset( $prepared->post_status ) ) {
			return $prepared;
		}
		$id   = isset( $prepared->ID ) ? (int) $prepared->ID : 0;
		$type = isset( $prepared->post_type ) ? $prepared->post_type : ( $id ? get_post_type( $id ) : '' );
		$old  = $id ? get_post_status( $id ) : 'new';
		if ( ! $type ) {
			return $prepared;
		}
		$limit = self::exceeded_limit( $type, (string) $old, (string) $prepared->post_status );
		if ( null === $limit ) {
			return $prepared;
		}
		return new WP_Error(
			self::ERROR_CODE,
			self::full_message( $type, $limit ),
			array(
				'status'      => 403,
				'limit'       => $limit,
				'post_type'   => $type,
				'account_url' => Bridge_Settings::account_url(),
			)
		);
	}

	/**
	 * Everything else that writes a post: XML-RPC gets a fault, other paths keep a draft.
	 *
	 * @param array<string,mixed> $data    Slashed post data about to be written.
	 * @param array<string,mixed> $postarr Raw post array (ID for updates).
	 * @return array<string,mixed>
	 */
	public static function filter_insert( $data, $postarr ) {
		$id    = isset( $postarr['ID'] ) ? (int) $postarr['ID'] : 0;
		$old   = $id ? (string) get_post_status( $id ) : 'new';
		$type  = isset( $data['post_type'] ) ? (string) $data['post_type'] : 'post';
		$limit = self::exceeded_limit( $type, $old, isset( $data['post_status'] ) ? (string) $data['post_status'] : '' );
		if ( null === $limit ) {
			return $data;
		}
		if ( defined( 'XMLRPC_REQUEST' ) && XMLRPC_REQUEST ) {
			global $wp_xmlrpc_server;
			if ( $wp_xmlrpc_server instanceof IXR_Server ) {
				// Ends the request with the fault, before anything is written.
				$wp_xmlrpc_server->error( new IXR_Error( 403, self::full_message( $type, $limit ) ) );
			}
		}
		self::$refused_type  = $type;
		$data['post_status'] = 'draft';
		return $data;
	}

	/**
	 * Classic editor: carry the refusal to the next screen.
	 *
	 * @param string $location Redirect URL.
	 * @return string
	 */
	public static function redirect_with_notice( $location ) {
		if ( '' === self::$refused_type ) {
			return $location;
		}
		return add_query_arg( 'plan_bridge_limit', rawurlencode( self::$refused_type ), $location );
	}

	/**
	 * Classic editor: the notice after a refused publish.
	 */
	public static function notice() {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- display only.
		if ( empty( $_GET['plan_bridge_limit'] ) ) {
			return;
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended
		$type  = sanitize_key( wp_unslash( $_GET['plan_bridge_limit'] ) );
		$limit = Bridge_Document::posts_limit( Bridge_Limits_Store::effective_limits(), $type );
		if ( null === $limit ) {
			return;
		}
		printf(
			'<div class="notice notice-error"><p>%1$s %2$s <a href="%3$s">%4$s</a></p></div>',
			esc_html( self::limit_message( $type, $limit ) ),
			esc_html__( 'It was saved as a draft.', 'plan-bridge' ),
			esc_url( Bridge_Settings::account_url() ),
			esc_html__( 'Change your plan on the Account page', 'plan-bridge' )
		);
	}
}
