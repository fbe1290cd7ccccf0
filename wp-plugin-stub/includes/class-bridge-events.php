<?php
/**
 * Events to the bridge (site.created, site.deleted, usage.reported, limits.applied).
 *
 * Page requests only queue: each event is one network option row `plan_bridge_event_<id>` (one
 * row per event, so two requests queueing at once never overwrite each other). The WP-Cron hook
 * `plan_bridge_send_events` sends them, signed with the events key, with capped exponential backoff.
 * The webhook-id stays the same on every retry; the bridge deduplicates on it.
 *
 * When the bridge is away for long the queue is kept useful and bounded: a usage report replaces
 * the site's queued one (only the newest counts), site.* and limits.applied are never dropped, and
 * above MAX_QUEUED events the oldest usage reports go first, counted in DROPPED_OPTION for the
 * Network Admin page. A usage report's webhook-id (and so its row) carries its site id, so a
 * site's queued report is found without reading the queue.
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
	// Stored as the delivery error when the bridge URL or secret is missing; shown translated.
	const NOT_CONFIGURED = 'not configured';
	const PREFIX        = 'plan_bridge_event_';
	const STATUS_OPTION  = 'plan_bridge_delivery_status';
	const DROPPED_OPTION = 'plan_bridge_events_dropped';
	const USAGE_TYPE     = 'usage.reported';
	const USAGE_ID       = 'msg_usage_';
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
	 * @return string|null The webhook-id, or null when the event was a usage report dropped at once
	 *                     because the queue is full of events that are never dropped.
	 */
	public static function enqueue( $type, array $data ) {
		$random = bin2hex( random_bytes( 12 ) );
		if ( self::USAGE_TYPE === $type && isset( $data['site_id'] ) ) {
			$prefix = self::USAGE_ID . (int) $data['site_id'] . '_';
			self::delete_queued( $prefix, PHP_INT_MAX );
			$id = $prefix . $random;
		} else {
			$id = 'msg_' . $random;
		}
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
		$dropped = self::trim();
		self::schedule( time() );
		return in_array( $id, $dropped, true ) ? null : $id;
	}

	/**
	 * Above MAX_QUEUED events, drops the oldest usage reports (never any other event) and counts them.
	 *
	 * @return string[] The webhook-ids dropped.
	 */
	private static function trim() {
		$excess = self::count_queued() - (int) self::MAX_QUEUED;
		if ( $excess <= 0 ) {
			return array();
		}
		$dropped = self::delete_queued( self::USAGE_ID, $excess );
		if ( array() !== $dropped ) {
			$overflow = self::overflow();
			update_site_option(
				self::DROPPED_OPTION,
				array(
					'count'   => $overflow['count'] + count( $dropped ),
					'last_at' => time(),
				)
			);
		}
		return $dropped;
	}

	/**
	 * Deletes the oldest queued events whose webhook-id starts with a prefix.
	 *
	 * @param string $id_prefix Start of the webhook-id.
	 * @param int    $limit     How many at most.
	 * @return string[] The webhook-ids deleted.
	 */
	private static function delete_queued( $id_prefix, $limit ) {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- a prefix scan of our own rows; no API lists network options.
		$keys = $wpdb->get_col(
			$wpdb->prepare(
				"SELECT meta_key FROM {$wpdb->sitemeta} WHERE site_id = %d AND meta_key LIKE %s ORDER BY meta_id LIMIT %d",
				get_current_network_id(),
				$wpdb->esc_like( self::PREFIX . $id_prefix ) . '%',
				$limit
			)
		);
		$ids = array();
		foreach ( $keys as $key ) {
			delete_site_option( $key );
			$ids[] = substr( $key, strlen( self::PREFIX ) );
		}
		return $ids;
	}

	/**
	 * How many usage reports were dropped because the queue was full, and when the last one was.
	 *
	 * @return array{count: int, last_at: int}
	 */
	public static function overflow() {
		$overflow = get_site_option( self::DROPPED_OPTION, array() );
		return array(
			'count'   => is_array( $overflow ) && isset( $overflow['count'] ) ? (int) $overflow['count'] : 0,
			'last_at' => is_array( $overflow ) && isset( $overflow['last_at'] ) ? (int) $overflow['last_at'] : 0,
		);
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
			$error = ( '' === $url || null === $key ) ? self::NOT_CONFIGURED : self::deliver( $url, $key, $event );
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
