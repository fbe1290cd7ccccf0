<?php
/**
 * Checkout tokens.
 *
 * @package Plan_Bridge
 */

use PHPUnit\Framework\TestCase;

/**
 * Bridge_Token.
 */
class TokenTest extends TestCase {

	const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
	const NOW    = 1776000000;

	private function key() {
		return Bridge_Signature::derive_key( self::SECRET, 'token' );
	}

	private function payload() {
		return Bridge_Token::payload( 2, 5, 'nb_NO', 'http://net.test/site2/wp-admin/admin.php?page=plan-bridge-account', 'change', self::NOW );
	}

	public function test_payload_expires_in_ten_minutes_with_a_fresh_jti() {
		$a = $this->payload();
		$b = $this->payload();
		$this->assertSame( self::NOW + 600, $a['exp'] );
		$this->assertMatchesRegularExpression( '/^[0-9a-f]{32}$/', $a['jti'] );
		$this->assertNotSame( $a['jti'], $b['jti'] );
		$this->assertSame( array( 'site_id', 'user_id', 'locale', 'return_url', 'exp', 'jti', 'intent' ), array_keys( $a ) );
	}

	public function test_minted_token_reads_back_before_expiry() {
		$payload = $this->payload();
		$token   = Bridge_Token::mint( $this->key(), $payload );
		$this->assertMatchesRegularExpression( '/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/', $token );
		$this->assertSame( $payload, Bridge_Token::read( $this->key(), $token, self::NOW + 600 ) );
	}

	public function test_expired_token_is_refused() {
		$token = Bridge_Token::mint( $this->key(), $this->payload() );
		$this->assertNull( Bridge_Token::read( $this->key(), $token, self::NOW + 601 ) );
	}

	public function test_token_signed_with_the_push_key_is_refused() {
		$token = Bridge_Token::mint( Bridge_Signature::derive_key( self::SECRET, 'push' ), $this->payload() );
		$this->assertNull( Bridge_Token::read( $this->key(), $token, self::NOW ) );
	}

	public function test_tampered_payload_is_refused() {
		$token         = Bridge_Token::mint( $this->key(), $this->payload() );
		list( , $mac ) = explode( '.', $token );
		$forged        = $this->payload();
		$forged['site_id'] = 3;
		$body          = Bridge_Token::b64url( json_encode( $forged ) );
		$this->assertNull( Bridge_Token::read( $this->key(), $body . '.' . $mac, self::NOW ) );
	}

	public function test_a_receipt_token_names_one_document_and_has_a_key_of_its_own() {
		$payload = Bridge_Token::receipt_payload( 2, 5, 'nb_NO', 'credit_note', 7, self::NOW );
		$this->assertSame( array( 'site_id', 'user_id', 'locale', 'kind', 'number', 'exp', 'jti' ), array_keys( $payload ) );
		$this->assertSame( array( 'credit_note', 7, self::NOW + 600 ), array( $payload['kind'], $payload['number'], $payload['exp'] ) );
		$this->assertSame( 'receipt', Bridge_Token::receipt_payload( 2, 5, 'en_US', 'anything', 1, self::NOW )['kind'] );
		$receipt_key = Bridge_Signature::derive_key( self::SECRET, 'receipt' );
		$token       = Bridge_Token::mint( $receipt_key, $payload );
		$this->assertSame( $payload, Bridge_Token::read( $receipt_key, $token, self::NOW ) );
		$this->assertNull( Bridge_Token::read( $this->key(), $token, self::NOW ) );
	}
}
