<?php
/**
 * Standard Webhooks signatures and per-purpose keys.
 *
 * @package Plan_Bridge
 */

use PHPUnit\Framework\TestCase;

/**
 * Bridge_Signature.
 */
class SignatureTest extends TestCase {

	const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
	const NOW    = 1776000000;

	private function key() {
		return Bridge_Signature::derive_key( self::SECRET, 'push' );
	}

	private function verify( $signature, $timestamp = self::NOW, $body = '{"version":1}', $now = self::NOW ) {
		return Bridge_Signature::verify( $this->key(), 'msg_1', (string) $timestamp, $signature, $body, $now );
	}

	public function test_accepts_a_signature_made_with_the_push_key() {
		$signature = Bridge_Signature::sign( $this->key(), 'msg_1', self::NOW, '{"version":1}' );
		$this->assertSame( '', $this->verify( $signature ) );
	}

	public function test_matches_the_standard_webhooks_reference_vector() {
		// From the Standard Webhooks specification's example (secret, id, timestamp, payload).
		$key = Bridge_Signature::derive_key( self::SECRET, 'events' );
		$this->assertSame(
			'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
			Bridge_Signature::sign( $key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}' )
		);
	}

	public function test_refuses_a_changed_body() {
		$signature = Bridge_Signature::sign( $this->key(), 'msg_1', self::NOW, '{"version":1}' );
		$this->assertSame( 'signature mismatch', $this->verify( $signature, self::NOW, '{"version":2}' ) );
	}

	public function test_refuses_a_signature_made_with_another_purposes_key() {
		$events    = Bridge_Signature::derive_key( self::SECRET, 'events' );
		$signature = Bridge_Signature::sign( $events, 'msg_1', self::NOW, '{"version":1}' );
		$this->assertSame( 'signature mismatch', $this->verify( $signature ) );
	}

	public function test_accepts_within_five_minutes_either_way() {
		foreach ( array( -300, 300 ) as $skew ) {
			$ts        = self::NOW + $skew;
			$signature = Bridge_Signature::sign( $this->key(), 'msg_1', $ts, '{"version":1}' );
			$this->assertSame( '', $this->verify( $signature, $ts ) );
		}
	}

	public function test_refuses_a_timestamp_more_than_five_minutes_away() {
		foreach ( array( -301, 301 ) as $skew ) {
			$ts        = self::NOW + $skew;
			$signature = Bridge_Signature::sign( $this->key(), 'msg_1', $ts, '{"version":1}' );
			$this->assertSame( 'stale timestamp', $this->verify( $signature, $ts ) );
		}
	}

	public function test_accepts_any_of_several_signatures() {
		$good = Bridge_Signature::sign( $this->key(), 'msg_1', self::NOW, '{"version":1}' );
		$this->assertSame( '', $this->verify( 'v1,AAAA ' . $good ) );
	}

	public function test_refuses_missing_headers_and_missing_key() {
		$this->assertSame( 'missing signature headers', $this->verify( '' ) );
		$this->assertSame( 'invalid timestamp', $this->verify( 'v1,x', 'soon' ) );
		$this->assertSame( 'no key configured', Bridge_Signature::verify( null, 'msg_1', (string) self::NOW, 'v1,x', '{}', self::NOW ) );
	}

	public function test_derives_distinct_keys_and_rejects_malformed_secrets() {
		$this->assertNotSame( Bridge_Signature::derive_key( self::SECRET, 'push' ), Bridge_Signature::derive_key( self::SECRET, 'token' ) );
		$this->assertSame( 32, strlen( Bridge_Signature::derive_key( self::SECRET, 'push' ) ) );
		$this->assertNull( Bridge_Signature::derive_key( 'whsec_not base64!', 'push' ) );
		$this->assertNull( Bridge_Signature::derive_key( 'whsec_c2hvcnQ=', 'push' ) );
	}

	const PREVIOUS = 'whsec_c2VjcmV0LWJlZm9yZS10aGUtcm90YXRpb24tMDE=';

	private function sign_with_secret( $secret ) {
		return Bridge_Signature::sign( Bridge_Signature::derive_key( $secret, 'push' ), 'msg_1', self::NOW, '{"version":1}' );
	}

	private function verify_rotating( $signature, array $secrets, $timestamp = self::NOW ) {
		return Bridge_Signature::verify_any( Bridge_Signature::derive_keys( $secrets, 'push' ), 'msg_1', (string) $timestamp, $signature, '{"version":1}', self::NOW );
	}

	public function test_during_a_rotation_accepts_pushes_signed_with_the_current_or_the_previous_secret() {
		$both = array( self::SECRET, self::PREVIOUS );
		$this->assertSame( '', $this->verify_rotating( $this->sign_with_secret( self::SECRET ), $both ) );
		$this->assertSame( '', $this->verify_rotating( $this->sign_with_secret( self::PREVIOUS ), $both ) );
	}

	public function test_once_the_previous_secret_is_dropped_its_pushes_are_refused() {
		$this->assertSame( 'signature mismatch', $this->verify_rotating( $this->sign_with_secret( self::PREVIOUS ), array( self::SECRET, '' ) ) );
		$this->assertSame( 'signature mismatch', $this->verify_rotating( $this->sign_with_secret( self::PREVIOUS ), array( self::SECRET ) ) );
	}

	public function test_rotation_refuses_a_third_secret_and_stale_timestamps() {
		$third = 'whsec_dGhpcmQtc2VjcmV0LW5vYm9keS1zaG91bGQta25vdw==';
		$both  = array( self::SECRET, self::PREVIOUS );
		$this->assertSame( 'signature mismatch', $this->verify_rotating( $this->sign_with_secret( $third ), $both ) );
		$stale = Bridge_Signature::sign( Bridge_Signature::derive_key( self::PREVIOUS, 'push' ), 'msg_1', self::NOW - 301, '{"version":1}' );
		$this->assertSame( 'stale timestamp', $this->verify_rotating( $stale, $both, self::NOW - 301 ) );
	}

	public function test_keys_are_derived_from_each_well_formed_secret_and_malformed_ones_are_skipped() {
		$keys = Bridge_Signature::derive_keys( array( self::SECRET, '', 'whsec_not base64!', self::PREVIOUS ), 'push' );
		$this->assertSame(
			array( Bridge_Signature::derive_key( self::SECRET, 'push' ), Bridge_Signature::derive_key( self::PREVIOUS, 'push' ) ),
			$keys
		);
		$this->assertSame( 'no key configured', Bridge_Signature::verify_any( array(), 'msg_1', (string) self::NOW, 'v1,x', '{}', self::NOW ) );
	}
}
