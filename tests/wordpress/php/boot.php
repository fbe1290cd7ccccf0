<?php
/**
 * Loads WordPress from the command line as a web request for one URL would, so multisite picks
 * the site of that URL. Included at the top level of a harness script: WordPress must load in
 * global scope.
 *
 * Reads one JSON object from stdin: {"docroot": "...", "url": "http://host:port/path/", ...};
 * the including script finds it in $harness. Scripts answer with harness_reply(), one JSON line
 * on stdout, and the shutdown check below turns any early exit (a fatal error, wp_die(), a
 * redirect because no site matches the URL) into exit status 1 with a message on stderr.
 */

$harness = json_decode( stream_get_contents( STDIN ), true, 512, JSON_THROW_ON_ERROR );
$harness_finished = false;

register_shutdown_function(
	static function () {
		if ( $GLOBALS['harness_finished'] ) {
			return;
		}
		$error = error_get_last();
		fwrite( STDERR, "harness: the PHP script stopped before it finished\n" );
		if ( $error ) {
			fwrite( STDERR, sprintf( "last error: %s in %s:%d\n", $error['message'], $error['file'], $error['line'] ) );
		}
		exit( 1 );
	}
);

$harness_url  = parse_url( $harness['url'] );
$harness_host = $harness_url['host'] . ( isset( $harness_url['port'] ) ? ':' . $harness_url['port'] : '' );

$_SERVER['HTTP_HOST']       = $harness_host;
$_SERVER['SERVER_NAME']     = $harness_url['host'];
$_SERVER['SERVER_PORT']     = (string) ( $harness_url['port'] ?? 80 );
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['REQUEST_URI']     = ( $harness_url['path'] ?? '/' ) . ( isset( $harness_url['query'] ) ? '?' . $harness_url['query'] : '' );
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['PHP_SELF']        = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $harness['docroot'] . '/index.php';
$_SERVER['REMOTE_ADDR']     = '127.0.0.1';

// Fatal errors should reach the caller as errors, not as WordPress's friendly error page.
define( 'WP_DISABLE_FATAL_ERROR_HANDLER', true );

if ( ! empty( $harness['installing'] ) ) {
	define( 'WP_INSTALLING', true );
	// Only while installing: a multisite network must not have these in wp-config.php, and
	// without them wp_guess_url() derives the URL from this script's path.
	define( 'WP_SITEURL', rtrim( $harness['url'], '/' ) );
	define( 'WP_HOME', rtrim( $harness['url'], '/' ) );
}

require $harness['docroot'] . '/wp-load.php';

/**
 * Prints the script's answer as one JSON line and marks the script as finished.
 *
 * @param array $data The answer.
 */
function harness_reply( array $data ) {
	echo "\n", json_encode( $data, JSON_UNESCAPED_SLASHES ), "\n";
	$GLOBALS['harness_finished'] = true;
}

/**
 * Writes a message to stderr and exits with status 1.
 *
 * @param string $message What went wrong.
 */
function harness_fail( $message ) {
	fwrite( STDERR, "harness: $message\n" );
	$GLOBALS['harness_finished'] = true;
	exit( 1 );
}
