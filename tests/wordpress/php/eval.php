<?php
/**
 * A stand-in for `wp eval`: runs PHP code inside WordPress for the site of "url".
 * stdin: {"docroot", "url", "code", "args"}. The code runs in global scope ($wpdb is at hand)
 * and finds "args" (decoded JSON) in $args. Its output goes to stdout as is; errors go to
 * stderr with exit status 1. Calling exit or wp_die() in the code counts as a failure.
 */

require __DIR__ . '/boot.php';

ini_set( 'display_errors', 'stderr' );
$args = $harness['args'] ?? array();
try {
	eval( $harness['code'] );
} catch ( Throwable $harness_error ) {
	fwrite( STDERR, get_class( $harness_error ) . ': ' . $harness_error->getMessage() . "\n" . $harness_error->getTraceAsString() . "\n" );
	$harness_finished = true;
	exit( 1 );
}
$harness_finished = true;
