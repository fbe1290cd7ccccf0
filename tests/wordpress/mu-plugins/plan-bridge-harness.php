<?php
/**
 * Plugin Name: Plan Bridge test harness (test-only)
 * Description: Tricks the test network on loopback needs. Written by tests/wordpress/harness.py;
 * never part of the shipped plugin.
 */

/*
 * The network's domain carries a port (127.0.0.1:PORT). wpmu_create_blog() runs the domain
 * through sanitize_user(), which drops the colon; keep the network's own domain unchanged.
 */
add_filter(
	'sanitize_user',
	static function ( $username, $raw_username ) {
		if ( defined( 'DOMAIN_CURRENT_SITE' ) && DOMAIN_CURRENT_SITE === $raw_username ) {
			return $raw_username;
		}
		return $username;
	},
	10,
	2
);

// Application Passwords over plain http (WP_ENVIRONMENT_TYPE 'local' allows it too).
add_filter( 'wp_is_application_passwords_available', '__return_true' );

/*
 * No MTA here: mail goes to a JSON-lines file instead; or, while a test has given the harness
 * an SMTP port (network option plan_bridge_harness_smtp_port, WordPressNetwork.route_mail_to),
 * through wp_mail's own PHPMailer to that SMTP server on loopback.
 */
function plan_bridge_harness_smtp_port() {
	return (int) get_site_option( 'plan_bridge_harness_smtp_port', 0 );
}

add_filter(
	'pre_wp_mail',
	static function ( $short_circuit, $atts ) {
		if ( ! defined( 'PLAN_BRIDGE_HARNESS_MAIL_LOG' ) || plan_bridge_harness_smtp_port() > 0 ) {
			return $short_circuit;
		}
		$record = array(
			'at'      => gmdate( 'c' ),
			'blog_id' => get_current_blog_id(),
			'to'      => $atts['to'],
			'subject' => $atts['subject'],
			'message' => $atts['message'],
			'headers' => $atts['headers'],
		);
		file_put_contents( PLAN_BRIDGE_HARNESS_MAIL_LOG, wp_json_encode( $record ) . "\n", FILE_APPEND | LOCK_EX );
		return true;
	},
	10,
	2
);

add_action(
	'phpmailer_init',
	static function ( $phpmailer ) {
		$port = plan_bridge_harness_smtp_port();
		if ( $port <= 0 ) {
			return;
		}
		$phpmailer->isSMTP();
		$phpmailer->Host        = '127.0.0.1';
		$phpmailer->Port        = $port;
		$phpmailer->SMTPAuth    = false;
		$phpmailer->SMTPAutoTLS = false;
		$phpmailer->SMTPSecure  = '';
	}
);

// The network's host is an address (127.0.0.1), which makes no valid sender: name one.
add_filter(
	'wp_mail_from',
	static function ( $from ) {
		return plan_bridge_harness_smtp_port() > 0 ? 'wordpress@example.invalid' : $from;
	}
);

/*
 * No calls home: update checks (cron events and admin page loads) would only fail offline and
 * fill the debug log with warnings.
 */
add_action(
	'init',
	static function () {
		foreach ( array( 'wp_version_check', 'wp_update_plugins', 'wp_update_themes', 'wp_maybe_auto_update' ) as $hook ) {
			remove_action( $hook, $hook );
		}
		foreach ( array( '_maybe_update_core', '_maybe_update_plugins', '_maybe_update_themes' ) as $callback ) {
			remove_action( 'admin_init', $callback );
		}
	},
	0
);
