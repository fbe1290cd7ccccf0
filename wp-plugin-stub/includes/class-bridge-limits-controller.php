<?php
/**
 * REST receiver for limits pushed by the bridge: POST /wp-json/bridge/v1/limits, /limits/batch and
 * /default-limits.
 *
 * The document is authenticated by its Standard Webhooks signature (push key), checked over the
 * raw body in the permission callback, before any JSON is parsed. A site's document may be sent
 * to that site's own URL, or to the network's (main site's) URL, which applies it to the blog
 * named by its site_id.
 *
 * A batch (POST /bridge/v1/limits/batch, signed the same way, to the network's URL) carries the
 * documents of many sites, at most Bridge_Batch::MAX_DOCUMENTS: each is applied on its own under
 * the same version rule and answered per site (applied, stale, or error with the code the single
 * push would answer), so one bad document never refuses the others.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Receives signed limits documents over REST; the XML-RPC receiver shares `receive()`.
 */
class Bridge_Limits_Controller extends WP_REST_Controller {

	/**
	 * Constructor.
	 */
	public function __construct() {
		$this->namespace = 'bridge/v1';
		$this->rest_base = 'limits';
	}

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action(
			'rest_api_init',
			static function () {
				( new Bridge_Limits_Controller() )->register_routes();
			}
		);
	}

	/**
	 * Registers both routes.
	 */
	public function register_routes() {
		register_rest_route(
			$this->namespace,
			'/' . $this->rest_base,
			array(
				array(
					'methods'             => WP_REST_Server::CREATABLE,
					'callback'            => array( $this, 'set_site_limits' ),
					'permission_callback' => array( $this, 'check_signature' ),
				),
			)
		);
		register_rest_route(
			$this->namespace,
			'/' . $this->rest_base . '/batch',
			array(
				array(
					'methods'             => WP_REST_Server::CREATABLE,
					'callback'            => array( $this, 'set_batch_limits' ),
					'permission_callback' => array( $this, 'check_signature' ),
				),
			)
		);
		register_rest_route(
			$this->namespace,
			'/default-limits',
			array(
				array(
					'methods'             => WP_REST_Server::CREATABLE,
					'callback'            => array( $this, 'set_default_limits' ),
					'permission_callback' => array( $this, 'check_signature' ),
				),
			)
		);
	}

	/**
	 * Permission: a valid, fresh signature made with the push key.
	 *
	 * @param WP_REST_Request $request Request.
	 * @return true|WP_Error
	 */
	public function check_signature( $request ) {
		return self::verify(
			$request->get_body(),
			(string) $request->get_header( 'webhook-id' ),
			(string) $request->get_header( 'webhook-timestamp' ),
			(string) $request->get_header( 'webhook-signature' )
		);
	}

	/**
	 * POST /bridge/v1/limits.
	 *
	 * @param WP_REST_Request $request Request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function set_site_limits( $request ) {
		return rest_ensure_response( self::receive( 'site', $request->get_body() ) );
	}

	/**
	 * POST /bridge/v1/limits/batch.
	 *
	 * @param WP_REST_Request $request Request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function set_batch_limits( $request ) {
		return rest_ensure_response( self::receive_batch( $request->get_body() ) );
	}

	/**
	 * POST /bridge/v1/default-limits.
	 *
	 * @param WP_REST_Request $request Request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function set_default_limits( $request ) {
		return rest_ensure_response( self::receive( 'defaults', $request->get_body() ) );
	}

	/**
	 * Checks a push signature against the current secret's push key and, during a rotation, the
	 * previous secret's.
	 *
	 * @param string $body      Raw body.
	 * @param string $msg_id    webhook-id.
	 * @param string $timestamp webhook-timestamp.
	 * @param string $signature webhook-signature.
	 * @return true|WP_Error
	 */
	public static function verify( $body, $msg_id, $timestamp, $signature ) {
		$reason = Bridge_Signature::verify_any( Bridge_Settings::push_keys(), $msg_id, $timestamp, $signature, $body, time() );
		if ( '' === $reason ) {
			return true;
		}
		return new WP_Error(
			'bridge_invalid_signature',
			/* translators: %s: why the signature was refused, in English (e.g. "stale timestamp"). */
			sprintf( __( 'The signature of this request is not valid: %s.', 'plan-bridge' ), $reason ),
			array( 'status' => 401 )
		);
	}

	/**
	 * Validates and applies an authenticated document.
	 *
	 * @param string $kind "site" or "defaults".
	 * @param string $body Raw JSON body (already verified).
	 * @return array<string,mixed>|WP_Error
	 */
	public static function receive( $kind, $body ) {
		list( $doc, $error ) = Bridge_Document::validate( json_decode( $body, true ), 'site' === $kind );
		if ( null === $doc ) {
			return self::invalid( $error );
		}
		if ( 'defaults' === $kind ) {
			return Bridge_Limits_Store::apply_default_document( $doc );
		}
		$applied = self::apply_site( $doc );
		return is_wp_error( $applied ) ? $applied : $applied[0];
	}

	/**
	 * Applies an authenticated batch (already verified) and answers per site, in order.
	 *
	 * Only the main site (the network's URL) takes batches: its documents name other blogs.
	 *
	 * @param string $body Raw JSON body.
	 * @return array<string,mixed>|WP_Error
	 */
	public static function receive_batch( $body ) {
		if ( ! is_main_site() ) {
			return new WP_Error(
				'bridge_batch_not_main_site',
				__( 'Batches of limits documents are taken only at the network\'s main site.', 'plan-bridge' ),
				array( 'status' => 400 )
			);
		}
		list( $documents, $code, $status ) = Bridge_Batch::read( $body );
		if ( null === $documents ) {
			$message = 413 === $status
				/* translators: %d: the most documents one batch may carry. */
				? sprintf( __( 'A batch may carry at most %d limits documents.', 'plan-bridge' ), Bridge_Batch::MAX_DOCUMENTS )
				: __( 'The batch is not valid: it must be a JSON object whose "documents" is a non-empty list.', 'plan-bridge' );
			return new WP_Error( $code, $message, array( 'status' => $status ) );
		}
		$results = array();
		foreach ( $documents as $raw ) {
			$site_id         = Bridge_Batch::site_id_of( $raw );
			list( $doc, $e ) = Bridge_Document::validate( $raw, true );
			$applied         = null === $doc ? self::invalid( $e ) : self::apply_site( $doc );
			if ( is_wp_error( $applied ) ) {
				$data      = $applied->get_error_data();
				$results[] = Bridge_Batch::error(
					$site_id,
					$applied->get_error_code(),
					$applied->get_error_message(),
					is_array( $data ) && isset( $data['status'] ) ? (int) $data['status'] : 400
				);
				continue;
			}
			$results[] = Bridge_Batch::answer( $site_id, $applied[1], $applied[0]['applied_version'] );
		}
		return array( 'results' => $results );
	}

	/**
	 * Applies a validated site document to the blog it names: here when it names this blog, else
	 * from the main site to another active blog of this network.
	 *
	 * @param array<string,mixed> $doc Validated site document.
	 * @return array{0: array<string,mixed>, 1: string}|WP_Error [answer, decision]
	 */
	private static function apply_site( array $doc ) {
		if ( get_current_blog_id() === $doc['site_id'] ) {
			return Bridge_Limits_Store::apply_site_document_deciding( $doc );
		}
		if ( ! is_main_site() ) {
			return self::invalid( 'site_id is not the site this request was sent to' );
		}
		return self::apply_for_blog( $doc );
	}

	/**
	 * A document sent to the main site (the network's URL) for another blog of this network:
	 * applied inside that blog, under the same version rule, when the blog is active.
	 *
	 * @param array<string,mixed> $doc Validated site document.
	 * @return array{0: array<string,mixed>, 1: string}|WP_Error [answer, decision]
	 */
	private static function apply_for_blog( array $doc ) {
		$site = get_site( $doc['site_id'] );
		if ( ! $site || (int) $site->network_id !== get_current_network_id()
			|| (int) $site->archived || (int) $site->deleted || (int) $site->spam ) {
			return new WP_Error(
				'bridge_unknown_site',
				/* translators: %d: the site id (blog id) named in the limits document. */
				sprintf( __( 'There is no active site with id %d on this network.', 'plan-bridge' ), (int) $doc['site_id'] ),
				array( 'status' => 404 )
			);
		}
		switch_to_blog( (int) $site->blog_id );
		try {
			return Bridge_Limits_Store::apply_site_document_deciding( $doc );
		} finally {
			restore_current_blog();
		}
	}

	/**
	 * A 400 error for a malformed document.
	 *
	 * @param string $reason Why, in English.
	 * @return WP_Error
	 */
	private static function invalid( $reason ) {
		return new WP_Error(
			'bridge_invalid_document',
			/* translators: %s: what is wrong with the document, in English. */
			sprintf( __( 'The limits document is not valid: %s.', 'plan-bridge' ), $reason ),
			array( 'status' => 400 )
		);
	}
}
