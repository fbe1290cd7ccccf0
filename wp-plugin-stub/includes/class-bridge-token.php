<?php
/**
 * Checkout tokens: b64url(payload_json) . "." . b64url(HMAC-SHA256(token_key, b64url(payload_json))).
 *
 * WordPress-free on purpose (PHPUnit runs it without WordPress). The bridge verifies the token and
 * accepts each jti once (docs/wordpress-contract.md, "Checkout tokens").
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) && ! defined( 'PLAN_BRIDGE_TESTING' ) ) {
	exit;
}

/**
 * Mints (and, for tests and diagnostics, reads) checkout tokens.
 */
class Bridge_Token {

	/**
	 * A token lives ten minutes.
	 */
	const TTL_S = 600;

	/**
	 * Payload of a new token.
	 *
	 * @param int    $site_id    Blog id.
	 * @param int    $user_id    The user who clicked.
	 * @param string $locale     The user's locale (e.g. nb_NO).
	 * @param string $return_url Where the bridge sends the browser back.
	 * @param string $intent     "change" or "cancel_scheduled".
	 * @param int    $now        Unix time now.
	 * @return array<string,mixed>
	 */
	public static function payload( $site_id, $user_id, $locale, $return_url, $intent, $now ) {
		return array(
			'site_id'    => (int) $site_id,
			'user_id'    => (int) $user_id,
			'locale'     => (string) $locale,
			'return_url' => (string) $return_url,
			'exp'        => (int) $now + self::TTL_S,
			'jti'        => bin2hex( random_bytes( 16 ) ),
			'intent'     => (string) $intent,
		);
	}

	/**
	 * An operator token (the bridge's console) lives five minutes.
	 */
	const OPERATOR_TTL_S = 300;

	/**
	 * Payload of a console sign-in token for a super admin (role "operator").
	 * Signed with Bridge_Signature::derive_key( $secret, 'operator' ), a key of its own.
	 *
	 * @param int    $user_id The super admin's user id.
	 * @param string $login   Their login, for the bridge's audit log.
	 * @param int    $now     Unix time now.
	 * @return array<string,mixed>
	 */
	public static function operator_payload( $user_id, $login, $now ) {
		return array(
			'user_id' => (int) $user_id,
			'login'   => (string) $login,
			'role'    => 'operator',
			'exp'     => (int) $now + self::OPERATOR_TTL_S,
			'jti'     => bin2hex( random_bytes( 16 ) ),
		);
	}

	/**
	 * Payload of a receipt token: opens one receipt (or credit note) of this site's membership.
	 * Signed with Bridge_Signature::derive_key( $secret, 'receipt' ), a key of its own, so a
	 * checkout token can never open a receipt nor a receipt token start a checkout.
	 *
	 * @param int    $site_id Blog id.
	 * @param int    $user_id The user who clicked.
	 * @param string $locale  The user's locale (e.g. nb_NO).
	 * @param string $kind    "receipt" or "credit_note".
	 * @param int    $number  The document's number.
	 * @param int    $now     Unix time now.
	 * @return array<string,mixed>
	 */
	public static function receipt_payload( $site_id, $user_id, $locale, $kind, $number, $now ) {
		return array(
			'site_id' => (int) $site_id,
			'user_id' => (int) $user_id,
			'locale'  => (string) $locale,
			'kind'    => 'credit_note' === $kind ? 'credit_note' : 'receipt',
			'number'  => (int) $number,
			'exp'     => (int) $now + self::TTL_S,
			'jti'     => bin2hex( random_bytes( 16 ) ),
		);
	}

	/**
	 * Signs a payload.
	 *
	 * @param string              $token_key Raw token key (Bridge_Signature::derive_key( $secret, 'token' )).
	 * @param array<string,mixed> $payload   Token payload.
	 * @return string
	 */
	public static function mint( $token_key, array $payload ) {
		// phpcs:ignore WordPress.WP.AlternativeFunctions.json_encode_json_encode -- must stay WordPress-free.
		$body = self::b64url( json_encode( $payload, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE ) );
		return $body . '.' . self::b64url( hash_hmac( 'sha256', $body, $token_key, true ) );
	}

	/**
	 * Verifies signature and expiry; returns the payload or null.
	 *
	 * @param string $token_key Raw token key.
	 * @param string $token     The token.
	 * @param int    $now       Unix time now.
	 * @return array<string,mixed>|null
	 */
	public static function read( $token_key, $token, $now ) {
		$parts = explode( '.', (string) $token );
		if ( 2 !== count( $parts ) ) {
			return null;
		}
		$expected = self::b64url( hash_hmac( 'sha256', $parts[0], $token_key, true ) );
		if ( ! hash_equals( $expected, $parts[1] ) ) {
			return null;
		}
		$payload = json_decode( self::unb64url( $parts[0] ), true );
		if ( ! is_array( $payload ) || ! isset( $payload['exp'] ) || ! is_int( $payload['exp'] ) || $payload['exp'] < $now ) {
			return null;
		}
		return $payload;
	}

	/**
	 * Base64url without padding.
	 *
	 * @param string $bytes Bytes.
	 * @return string
	 */
	public static function b64url( $bytes ) {
		// phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode
		return rtrim( strtr( base64_encode( $bytes ), '+/', '-_' ), '=' );
	}

	/**
	 * Decodes base64url with or without padding.
	 *
	 * @param string $text Text.
	 * @return string
	 */
	public static function unb64url( $text ) {
		// phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_decode
		$bytes = base64_decode( strtr( $text, '-_', '+/' ), true );
		return false === $bytes ? '' : $bytes;
	}
}
