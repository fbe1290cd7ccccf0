<?php
/**
 * Router for `php -S`: the rewrite rules of a subdirectory multisite network's .htaccess.
 *
 * - /wp-admin and /SLUG/wp-admin get a trailing slash (301).
 * - An existing file, or a directory with index.php, is left to the built-in server.
 * - /SLUG/wp-(content|admin|includes)... and /SLUG/....php lose their SLUG/ prefix: PHP is run,
 *   other files are served here (returning false would serve the original URI).
 * - Everything else goes to /index.php, which finds the site by REQUEST_URI.
 *
 * The require calls stay at the top level on purpose: wp-admin pages rely on global variables.
 */

$router_root = rtrim( $_SERVER['DOCUMENT_ROOT'], '/' );
$router_path = rawurldecode( parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH ) ?? '/' );

if ( str_contains( $router_path, '..' ) || str_contains( $router_path, "\0" ) ) {
	http_response_code( 400 );
	return true;
}

if ( preg_match( '#^(/[_0-9a-zA-Z-]+)?/wp-admin$#', $router_path ) ) {
	$router_query = parse_url( $_SERVER['REQUEST_URI'], PHP_URL_QUERY );
	header( 'Location: ' . $router_path . '/' . ( $router_query ? '?' . $router_query : '' ), true, 301 );
	return true;
}

if ( is_file( $router_root . $router_path ) || is_file( rtrim( $router_root . $router_path, '/' ) . '/index.php' ) ) {
	return false;
}

$router_target = null;
if ( preg_match( '#^/[_0-9a-zA-Z-]+(/wp-(?:content|admin|includes)(?:/.*)?)$#', $router_path, $router_match )
	|| preg_match( '#^/[_0-9a-zA-Z-]+(/.*\.php)$#', $router_path, $router_match ) ) {
	$router_target = $router_match[1];
	if ( is_dir( $router_root . $router_target ) ) {
		$router_target = rtrim( $router_target, '/' ) . '/index.php';
	}
	if ( ! is_file( $router_root . $router_target ) ) {
		$router_target = null;
	}
}

if ( null !== $router_target && ! str_ends_with( $router_target, '.php' ) ) {
	$router_types = array(
		'css'   => 'text/css; charset=UTF-8',
		'js'    => 'application/javascript; charset=UTF-8',
		'json'  => 'application/json',
		'map'   => 'application/json',
		'svg'   => 'image/svg+xml',
		'png'   => 'image/png',
		'jpg'   => 'image/jpeg',
		'jpeg'  => 'image/jpeg',
		'gif'   => 'image/gif',
		'webp'  => 'image/webp',
		'ico'   => 'image/x-icon',
		'woff'  => 'font/woff',
		'woff2' => 'font/woff2',
		'ttf'   => 'font/ttf',
		'txt'   => 'text/plain; charset=UTF-8',
		'html'  => 'text/html; charset=UTF-8',
		'xml'   => 'application/xml',
		'pdf'   => 'application/pdf',
	);
	$router_ext = strtolower( pathinfo( $router_target, PATHINFO_EXTENSION ) );
	header( 'Content-Type: ' . ( $router_types[ $router_ext ] ?? 'application/octet-stream' ) );
	header( 'Content-Length: ' . filesize( $router_root . $router_target ) );
	readfile( $router_root . $router_target );
	return true;
}

if ( null === $router_target ) {
	$router_target = '/index.php';
}
// WordPress derives $pagenow and admin screens from these, as behind Apache's rewrite.
$_SERVER['SCRIPT_NAME']     = $router_target;
$_SERVER['PHP_SELF']        = $router_target;
$_SERVER['SCRIPT_FILENAME'] = $router_root . $router_target;
chdir( dirname( $router_root . $router_target ) );
require $router_root . $router_target;
