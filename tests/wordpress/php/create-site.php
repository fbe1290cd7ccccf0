<?php
/**
 * Creates an owner user and a subsite of the network with that owner as its administrator.
 * stdin: {"docroot", "url" (network), "slug", "title", "owner_login", "owner_password",
 *         "owner_email", "owner_locale"}. Answers {"blog_id", "url", "owner_id"}.
 * The owner's locale is stored before the site exists, so hooks on site creation see it.
 */

require __DIR__ . '/boot.php';

$network = get_network();
$owner_id = wpmu_create_user( $harness['owner_login'], $harness['owner_password'], $harness['owner_email'] );
if ( ! $owner_id ) {
	harness_fail( "could not create user {$harness['owner_login']} (taken?)" );
}
update_user_meta( $owner_id, 'locale', $harness['owner_locale'] );

$blog_id = wpmu_create_blog(
	$network->domain,
	$network->path . $harness['slug'] . '/',
	$harness['title'],
	$owner_id,
	array( 'public' => 1 ),
	$network->id
);
if ( is_wp_error( $blog_id ) ) {
	harness_fail( 'wpmu_create_blog: ' . $blog_id->get_error_message() );
}
// wpmu_create_blog() leaves wp_installing() on; later hooks in this process must not see it.
wp_installing( false );
wp_cache_flush();
// get_home_url( $blog_id ) still answered the main site's URL here; the stored site row is exact.
$site = get_site( $blog_id );

harness_reply(
	array(
		'blog_id'  => (int) $blog_id,
		'url'      => 'http://' . $site->domain . $site->path,
		'owner_id' => (int) $owner_id,
	)
);
