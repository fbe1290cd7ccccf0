<?php
/**
 * Events to the bridge (site.created, site.deleted, usage.reported, limits.applied).
 *
 * Page requests only queue: each event is one network option row `plan_bridge_event_<id>` (one
 * row per event, so two requests queueing at once never overwrite each other). The WP-Cron hook
 * `plan_bridge_send_events` sends them, signed with the events key, with capped exponential backoff.
 * The webhook-id stays the same on every retry; the bridge deduplicates on it.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The outgoing event queue.
 */
class Bridge_Events {

	const HOOK          = 'plan_bridge_send_events';
	const PREFIX        = 'plan_bridge_event_';
	const STATUS_OPTION = 'plan_bridge_delivery_status';
	const MAX_ATTEMPTS  = 30;
	const MAX_QUEUED    = 1000;
	const BATCH         = 50;
	const TIMEOUT_S     = 5;

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action( self::HOOK, array( __CLASS__, 'send_due' ) );
		add_action( 'wp_initialize_site', array( __CLASS__, 'site_created' ), 200, 2 );
		add_action( 'wp_uninitialize_site', array( __CLASS__, 'site_deleted' ) );
	}

	/**
	 * Queues an event and makes sure the sender runs soon. Never sends from here.
	 *
	 * @param string              $type Event type.
	 * @param array<string,mixed> $data Event data.
	 * @return string|null The webhook-id, or null when the queue is full.
	 */
	public static function enqueue( $type, array $data ) {
		if ( self::count_queued() >= self::MAX_QUEUED ) {
			return null;
		}
		$id = 'msg_' . bin2hex( random_bytes( 12 ) );
		add_site_option(
			self::PREFIX . $id,
			array(
				'id'       => $id,
				'body'     => wp_json_encode(
					array(
						'type' => $type,
						'data' => $data,
					)
				),
				'attempts' => 0,
				'next_at'  => 0,
			)
		);
		self::schedule( time() );
		return $id;
	}

	/**
	 * Schedules the sender on the current site, unless it is already scheduled earlier.
	 *
	 * @param int $at Unix time.
	 */
	public static function schedule( $at ) {
		$next = wp_next_scheduled( self::HOOK );
		if ( false !== $next && $next <= $at ) {
			return;
		}
		if ( false !== $next ) {
			wp_unschedule_event( $next, self::HOOK );
		}
		wp_schedule_single_event( $at, self::HOOK );
	}

	/**
	 * The queued events, oldest first.
	 *
	 * @param int $limit How many at most.
	 * @return array<int,array<string,mixed>>
	 */
	public static function queued( $limit = self::BATCH ) {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- a prefix scan of our own rows; no API lists network options.
		$rows   = $wpdb->get_col(
			$wpdb->prepare(
				"SELECT meta_value FROM {$wpdb->sitemeta} WHERE site_id = %d AND meta_key LIKE %s ORDER BY meta_id LIMIT %d",
				get_current_network_id(),
				$wpdb->esc_like( self::PREFIX ) . '%',
				$limit
			)
		);
		$events = array();
		foreach ( $rows as $row ) {
			$event = maybe_unserialize( $row );
			if ( is_array( $event ) && isset( $event['id'], $event['body'] ) ) {
				$events[] = $event;
			}
		}
		return $events;
	}

	/**
	 * How many events wait.
	 *
	 * @return int
	 */
	public static function count_queued() {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery
		return (int) $wpdb->get_var(
			$wpdb->prepare(
				"SELECT COUNT(*) FROM {$wpdb->sitemeta} WHERE site_id = %d AND meta_key LIKE %s",
				get_current_network_id(),
				$wpdb->esc_like( self::PREFIX ) . '%'
			)
		);
	}

	/**
	 * WP-Cron: sends due events; failures wait 1, 2, 4 ... minutes (at most 6 hours).
	 */
	public static function send_due() {
		$url = Bridge_Settings::bridge_url();
		$key = Bridge_Settings::key( 'events' );
		$now = time();
		$min = null;
		foreach ( self::queued() as $event ) {
			if ( (int) $event['next_at'] > $now ) {
				$min = null === $min ? (int) $event['next_at'] : min( $min, (int) $event['next_at'] );
				continue;
			}
			$error = ( '' === $url || null === $key ) ? 'not configured' : self::deliver( $url, $key, $event );
			if ( '' === $error ) {
				delete_site_option( self::PREFIX . $event['id'] );
				self::record( '' );
				continue;
			}
			self::record( $error );
			++$event['attempts'];
			if ( $event['attempts'] >= self::MAX_ATTEMPTS ) {
				delete_site_option( self::PREFIX . $event['id'] );
				continue;
			}
			$event['next_at'] = $now + min( 60 * ( 2 ** ( $event['attempts'] - 1 ) ), 6 * HOUR_IN_SECONDS );
			update_site_option( self::PREFIX . $event['id'], $event );
			$min = null === $min ? $event['next_at'] : min( $min, $event['next_at'] );
		}
		if ( self::count_queued() > 0 ) {
			self::schedule( null === $min ? $now : $min );
		}
	}

	/**
	 * Sends one event; returns '' on success or a short error.
	 *
	 * @param string              $url   Bridge URL.
	 * @param string              $key   Events key.
	 * @param array<string,mixed> $event Queued event.
	 * @return string
	 */
	private static function deliver( $url, $key, array $event ) {
		$headers                 = Bridge_Signature::headers( $key, $event['id'], time(), $event['body'] );
		$headers['Content-Type'] = 'application/json';
		$response                = wp_remote_post(
			$url . '/webhooks/wordpress',
			array(
				'timeout'     => self::TIMEOUT_S,
				'redirection' => 0,
				'headers'     => $headers,
				'body'        => $event['body'],
			)
		);
		if ( is_wp_error( $response ) ) {
			return $response->get_error_message();
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		return ( $code >= 200 && $code < 300 ) ? '' : 'HTTP ' . $code;
	}

	/**
	 * Remembers the outcome of the last delivery, for the Network Admin page.
	 *
	 * @param string $error '' for success.
	 */
	private static function record( $error ) {
		$status = get_site_option( self::STATUS_OPTION, array() );
		$status = is_array( $status ) ? $status : array();
		if ( '' === $error ) {
			$status['last_success'] = time();
		} else {
			$status['last_error']    = substr( $error, 0, 200 );
			$status['last_error_at'] = time();
		}
		update_site_option( self::STATUS_OPTION, $status );
	}

	/**
	 * The last delivery outcome.
	 *
	 * @return array<string,mixed>
	 */
	public static function delivery_status() {
		$status = get_site_option( self::STATUS_OPTION, array() );
		return is_array( $status ) ? $status : array();
	}

	/**
	 * A new site: site.created.
	 *
	 * @param WP_Site             $site The new site.
	 * @param array<string,mixed> $args Arguments of wp_initialize_site (user_id, ...).
	 */
	public static function site_created( $site, $args = array() ) {
		$owner   = isset( $args['user_id'] ) ? get_userdata( (int) $args['user_id'] ) : false;
		$blog_id = (int) $site->blog_id;
		$locale  = (string) get_blog_option( $blog_id, 'WPLANG', '' );
		if ( $owner ) {
			$user_locale = get_user_meta( $owner->ID, 'locale', true );
			$locale      = '' !== (string) $user_locale ? (string) $user_locale : $locale;
		}
		$timezone = (string) get_blog_option( $blog_id, 'timezone_string', '' );
		if ( '' === $timezone ) {
			$offset   = (float) get_blog_option( $blog_id, 'gmt_offset', 0 );
			$timezone = 0.0 === $offset ? 'UTC' : sprintf( 'UTC%+g', $offset );
		}
		self::enqueue(
			'site.created',
			array(
				'site_id'  => $blog_id,
				'url'      => get_home_url( $blog_id, '/' ),
				'name'     => (string) get_blog_option( $blog_id, 'blogname', '' ),
				'owner'    => $owner ? array(
					'user_id' => (int) $owner->ID,
					'email'   => $owner->user_email,
					'locale'  => '' !== $locale ? $locale : 'en_US',
				) : null,
				'timezone' => $timezone,
			)
		);
	}

	/**
	 * A deleted site: site.deleted.
	 *
	 * @param WP_Site $site The site.
	 */
	public static function site_deleted( $site ) {
		self::enqueue( 'site.deleted', array( 'site_id' => (int) $site->blog_id ) );
	}
}
