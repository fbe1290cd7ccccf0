<?php
/**
 * Batches of limits documents (POST /bridge/v1/limits/batch): the envelope's rules and the
 * per-site answers.
 *
 * WordPress-free on purpose (PHPUnit runs it without WordPress). The controller verifies the
 * signature over the raw body, then asks `read()` for the documents and builds one answer per
 * document with `answer()` from what applying it returned.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) && ! defined( 'PLAN_BRIDGE_TESTING' ) ) {
	exit;
}

/**
 * Pure rules about batches.
 */
class Bridge_Batch {

	/**
	 * Most documents one batch may carry. Applying one costs a handful of option writes (about
	 * 5-10 ms on the test network), so 200 stay far inside PHP's default 30 s
	 * max_execution_time, and 200 documents of ~1 KB decoded stay a few MB under 128 MB.
	 */
	const MAX_DOCUMENTS = 200;

	/**
	 * Largest body accepted, in bytes (200 documents with their membership snapshots fit).
	 */
	const MAX_BODY_BYTES = 1048576;

	const APPLIED = 'applied';
	const STALE   = 'stale';
	const ERROR   = 'error';

	/**
	 * The envelope's documents, or why the whole batch is refused.
	 *
	 * @param string $body Raw JSON body (already verified).
	 * @return array{0: array<int,mixed>|null, 1: string, 2: int} [documents, error code, HTTP status]
	 */
	public static function read( $body ) {
		if ( strlen( (string) $body ) > self::MAX_BODY_BYTES ) {
			return array( null, 'bridge_batch_too_large', 413 );
		}
		$envelope = json_decode( (string) $body, true );
		if ( ! is_array( $envelope ) || ! isset( $envelope['documents'] ) || ! is_array( $envelope['documents'] )
			|| array_values( $envelope['documents'] ) !== $envelope['documents'] ) {
			return array( null, 'bridge_invalid_batch', 400 );
		}
		$documents = $envelope['documents'];
		if ( array() === $documents ) {
			return array( null, 'bridge_invalid_batch', 400 );
		}
		if ( count( $documents ) > self::MAX_DOCUMENTS ) {
			return array( null, 'bridge_batch_too_large', 413 );
		}
		return array( $documents, '', 200 );
	}

	/**
	 * The site id a raw document names, or null when it names none.
	 *
	 * @param mixed $doc Decoded document.
	 * @return int|null
	 */
	public static function site_id_of( $doc ) {
		return ( is_array( $doc ) && isset( $doc['site_id'] ) && is_int( $doc['site_id'] ) ) ? $doc['site_id'] : null;
	}

	/**
	 * One site's answer from the version rule's decision and the version the site now holds.
	 *
	 * Older or equal versions change nothing and are answered "stale" with the version the site
	 * holds; a newer one is stored and answered "applied".
	 *
	 * @param int|null $site_id  Site the document named.
	 * @param string   $decision Bridge_Document::APPLY, SAME or IGNORE.
	 * @param int      $applied  The version the site holds after the document.
	 * @return array<string,mixed>
	 */
	public static function answer( $site_id, $decision, $applied ) {
		return array(
			'site_id'         => $site_id,
			'status'          => Bridge_Document::APPLY === $decision ? self::APPLIED : self::STALE,
			'applied_version' => (int) $applied,
		);
	}

	/**
	 * One site's error answer.
	 *
	 * @param int|null $site_id Site the document named, null when it named none.
	 * @param string   $code    Error code (the one the single push would answer).
	 * @param string   $message Sentence.
	 * @param int      $status  HTTP-like status the single push would answer.
	 * @return array<string,mixed>
	 */
	public static function error( $site_id, $code, $message, $status ) {
		return array(
			'site_id' => $site_id,
			'status'  => self::ERROR,
			'code'    => (string) $code,
			'message' => (string) $message,
			'http'    => (int) $status,
		);
	}
}
