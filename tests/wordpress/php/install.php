<?php
/**
 * Installs WordPress and turns it into a subdirectory multisite network, without wp-cli.
 * stdin: {"docroot", "url", "installing": true, "domain", "title", "admin_user",
 *         "admin_password", "admin_email"}. Answers {"admin_id": N}.
 * The caller writes the multisite constants to wp-config-multisite.php afterwards.
 */

require __DIR__ . '/boot.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

$installed = wp_install(
	$harness['title'],
	$harness['admin_user'],
	$harness['admin_email'],
	true,
	'',
	wp_slash( $harness['admin_password'] )
);

// As wp-cli's `core multisite-convert` does: point $wpdb at the network tables before creating them.
foreach ( $wpdb->tables( 'ms_global' ) as $table => $prefixed_table ) {
	$wpdb->$table = $prefixed_table;
}
install_network();
$network = populate_network( 1, $harness['domain'], $harness['admin_email'], $harness['title'], '/', false );
if ( is_wp_error( $network ) ) {
	harness_fail( 'populate_network: ' . $network->get_error_message() );
}

harness_reply( array( 'admin_id' => (int) $installed['user_id'] ) );
