<?php
/**
 * Finishes the network once multisite is on: an Application Password for the super admin.
 * stdin: {"docroot", "url", "admin_user"}. Answers {"app_password": "..."}.
 */

require __DIR__ . '/boot.php';

$admin = get_user_by( 'login', $harness['admin_user'] );
if ( ! $admin ) {
	harness_fail( "no user {$harness['admin_user']}" );
}
$created = WP_Application_Passwords::create_new_application_password( $admin->ID, array( 'name' => 'plan-bridge-tests' ) );
if ( is_wp_error( $created ) ) {
	harness_fail( 'application password: ' . $created->get_error_message() );
}

harness_reply( array( 'app_password' => $created[0] ) );
