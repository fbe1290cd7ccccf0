<?php
/**
 * Keys and Standard Webhooks signatures shared with the bridge.
 *
 * WordPress-free on purpose: PHPUnit tests it without loading WordPress.
 * The Python side is bridge/adapters/signing.py; docs/wordpress-contract.md describes both.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) && ! defined( 'PLAN_BRIDGE_TESTING' ) ) {
	exit;
}

/**
 * Derives per-purpose keys from the operator's secret and signs or verifies documents.
 */
class Bridge_Signature {

	/**
	 * How far a webhook timestamp may be from now, in seconds (Standard Webhooks' 5 minutes).
	 */
	const TOLERANCE_S = 300;

	const PREFIX = 'whsec_';

	/**
	 * Raw key bytes of a `whsec_<base64>` secret, or null when the secret is malformed.
	 *
	 * @param string $secret The operator's secret.
	 * @return string|null
	 */
	public static function secret_bytes( $secret ) {
		$secret = (string) $secret;
		$body   = 0 === strpos( $secret, self::PREFIX ) ? substr( $secret, strlen( self::PREFIX ) ) : $secret;
		// phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_decode -- key material, not obfuscation.
		$raw = base64_decode( $body, true );
		if ( false === $raw || strlen( $raw ) < 16 ) {
			return null;
		}
		return $raw;
	}

	/**
	 * One key per purpose: HMAC-SHA256(raw secret, "plan-bridge/<purpose>/v1").
	 *
	 * The events key is the raw secret itself, so any Standard Webhooks sender works with the bridge.
	 *
	 * @param string $secret  The operator's secret.
	 * @param string $purpose One of "events", "push", "token".
	 * @return string|null Raw key bytes, or null when the secret is malformed.
	 */
	public static function derive_key( $secret, $purpose ) {
		$raw = self::secret_bytes( $secret );
		if ( null === $raw ) {
			return null;
		}
		if ( 'events' === $purpose ) {
			return $raw;
		}
		return hash_hmac( 'sha256', 'plan-bridge/' . $purpose . '/v1', $raw, true );
	}

	/**
	 * The keys for a purpose derived from each well-formed secret, in the given order.
	 *
	 * During a rotation the plugin verifies with the current and the previous secret's keys.
	 *
	 * @param array<int,string> $secrets Secrets; empty or malformed ones are skipped.
	 * @param string            $purpose One of "events", "push", "token".
	 * @return array<int,string> Raw key bytes.
	 */
	public static function derive_keys( array $secrets, $purpose ) {
		$keys = array();
		foreach ( $secrets as $secret ) {
			$key = '' === (string) $secret ? null : self::derive_key( $secret, $purpose );
			if ( null !== $key ) {
				$keys[] = $key;
			}
		}
		return $keys;
	}

	/**
	 * Checks a signed message against several keys. Returns '' when one of them verifies it, else
	 * the reason given for the first key ('no key configured' when there is none).
	 *
	 * @param array<int,string> $keys      Raw key bytes, current first.
	 * @param string            $msg_id    webhook-id header.
	 * @param string            $timestamp webhook-timestamp header.
	 * @param string            $signature webhook-signature header.
	 * @param string            $body      The raw body, before any JSON parsing.
	 * @param int               $now       Unix time now.
	 * @return string
	 */
	public static function verify_any( array $keys, $msg_id, $timestamp, $signature, $body, $now ) {
		$first = null;
		foreach ( $keys as $key ) {
			$reason = self::verify( $key, $msg_id, $timestamp, $signature, $body, $now );
			if ( '' === $reason ) {
				return '';
			}
			$first = null === $first ? $reason : $first;
		}
		return null === $first ? 'no key configured' : $first;
	}

	/**
	 * The `v1,<base64>` signature of a message.
	 *
	 * @param string $key       Raw key bytes.
	 * @param string $msg_id    The webhook-id.
	 * @param int    $timestamp The webhook-timestamp (seconds).
	 * @param string $body      The exact body.
	 * @return string
	 */
	public static function sign( $key, $msg_id, $timestamp, $body ) {
		// phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode
		return 'v1,' . base64_encode( hash_hmac( 'sha256', $msg_id . '.' . $timestamp . '.' . $body, $key, true ) );
	}

	/**
	 * The three Standard Webhooks headers for a body.
	 *
	 * @param string $key    Raw key bytes.
	 * @param string $msg_id Unique id of the message (kept across retries).
	 * @param int    $now    Unix time of sending.
	 * @param string $body   The exact body.
	 * @return array<string,string>
	 */
	public static function headers( $key, $msg_id, $now, $body ) {
		return array(
			'webhook-id'        => $msg_id,
			'webhook-timestamp' => (string) (int) $now,
			'webhook-signature' => self::sign( $key, $msg_id, (int) $now, $body ),
		);
	}

	/**
	 * Checks a signed message. Returns '' when valid, else a short reason.
	 *
	 * @param string $key       Raw key bytes.
	 * @param string $msg_id    webhook-id header.
	 * @param string $timestamp webhook-timestamp header.
	 * @param string $signature webhook-signature header (space-separated list of `v1,<base64>`).
	 * @param string $body      The raw body, before any JSON parsing.
	 * @param int    $now       Unix time now.
	 * @param int    $tolerance Allowed clock difference in seconds.
	 * @return string
	 */
	public static function verify( $key, $msg_id, $timestamp, $signature, $body, $now, $tolerance = self::TOLERANCE_S ) {
		if ( ! is_string( $key ) || '' === $key ) {
			return 'no key configured';
		}
		if ( ! is_string( $msg_id ) || '' === $msg_id || ! is_string( $signature ) || '' === $signature ) {
			return 'missing signature headers';
		}
		if ( ! is_string( $timestamp ) || ! preg_match( '/^[0-9]{1,12}$/', $timestamp ) ) {
			return 'invalid timestamp';
		}
		$ts = (int) $timestamp;
		if ( abs( (int) $now - $ts ) > $tolerance ) {
			return 'stale timestamp';
		}
		$expected = self::sign( $key, $msg_id, $ts, (string) $body );
		foreach ( preg_split( '/\s+/', trim( $signature ) ) as $candidate ) {
			if ( hash_equals( $expected, $candidate ) ) {
				return '';
			}
		}
		return 'signature mismatch';
	}
}
