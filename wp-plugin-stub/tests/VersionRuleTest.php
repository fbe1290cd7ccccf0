<?php
/**
 * The version rule and document validation.
 *
 * @package Plan_Bridge
 */

use PHPUnit\Framework\TestCase;

/**
 * Bridge_Document.
 */
class VersionRuleTest extends TestCase {

	public function test_first_document_applies() {
		$this->assertSame( Bridge_Document::APPLY, Bridge_Document::decide( null, 1 ) );
	}

	public function test_newer_version_applies() {
		$this->assertSame( Bridge_Document::APPLY, Bridge_Document::decide( 7, 8 ) );
	}

	public function test_same_version_is_a_no_op() {
		$this->assertSame( Bridge_Document::SAME, Bridge_Document::decide( 7, 7 ) );
	}

	public function test_older_version_is_ignored() {
		$this->assertSame( Bridge_Document::IGNORE, Bridge_Document::decide( 9, 7 ) );
	}

	public function test_validates_a_contract_document() {
		list( $doc, $error ) = Bridge_Document::validate(
			json_decode( '{"site_id":2,"version":7,"issued_at":"2026-04-11T00:00:05Z","limits":{"visits":100000,"posts":{"post":"unlimited","page":50}},"membership":null}', true ),
			true
		);
		$this->assertSame( '', $error );
		$this->assertSame( 7, $doc['version'] );
		$this->assertNull( Bridge_Document::posts_limit( $doc['limits'], 'post' ) );
		$this->assertSame( 50, Bridge_Document::posts_limit( $doc['limits'], 'page' ) );
		$this->assertNull( Bridge_Document::posts_limit( $doc['limits'], 'product' ) );
		$this->assertNull( Bridge_Document::limit( $doc['limits'], 'users' ) );
		$this->assertSame( 100000, Bridge_Document::limit( $doc['limits'], 'visits' ) );
	}

	public function test_refuses_malformed_documents() {
		$bad = array(
			'[]',
			'{"site_id":2,"limits":{}}',
			'{"site_id":"2","version":1,"limits":{}}',
			'{"site_id":2,"version":1,"limits":{"visits":-1}}',
			'{"site_id":2,"version":1,"limits":{"visits":1.5}}',
			'{"site_id":2,"version":1,"limits":{"posts":{"post":"lots"}}}',
			'{"site_id":2,"version":1,"limits":{},"membership":"gold"}',
		);
		foreach ( $bad as $json ) {
			list( $doc, $error ) = Bridge_Document::validate( json_decode( $json, true ), true );
			$this->assertNull( $doc, $json );
			$this->assertNotSame( '', $error, $json );
		}
	}

	public function test_one_more_fits_only_below_the_limit() {
		$this->assertTrue( Bridge_Document::allows_one_more( 3, 2 ) );
		$this->assertFalse( Bridge_Document::allows_one_more( 3, 3 ) );
		$this->assertFalse( Bridge_Document::allows_one_more( 0, 0 ) );
		$this->assertTrue( Bridge_Document::allows_one_more( null, 1000000 ) );
	}
}
