<?php
/**
 * Network-activates a plugin (runs its activation hook) unless it is active network-wide already.
 * stdin: {"docroot", "url", "plugin": "plan-bridge/plan-bridge.php"}. Answers {"activated": bool}.
 */

require __DIR__ . '/boot.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( is_plugin_active_for_network( $harness['plugin'] ) ) {
	harness_reply( array( 'activated' => false ) );
	return;
}
$result = activate_plugin( $harness['plugin'], '', true );
if ( is_wp_error( $result ) ) {
	harness_fail( 'activate_plugin: ' . $result->get_error_code() . ': ' . $result->get_error_message() . ' ' . wp_json_encode( $result->get_error_data() ) );
}
harness_reply( array( 'activated' => true ) );
