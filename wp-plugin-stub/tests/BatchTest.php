<?php
/**
 * Batches of limits documents: the envelope's bounds and the per-site answers.
 *
 * @package Plan_Bridge
 */

use PHPUnit\Framework\TestCase;

/**
 * Bridge_Batch.
 */
class BatchTest extends TestCase {

	private static function body( $count ) {
		$documents = array();
		for ( $n = 0; $n < $count; $n++ ) {
			$documents[] = array(
				'site_id'    => 2 + $n,
				'version'    => 1,
				'limits'     => array( 'users' => 3 ),
				'membership' => null,
			);
		}
		return json_encode( array( 'documents' => $documents ) );
	}

	public function test_reads_the_documents_of_a_batch_in_order() {
		list( $documents, $code, $status ) = Bridge_Batch::read( self::body( 3 ) );
		$this->assertSame( array( 2, 3, 4 ), array_map( array( 'Bridge_Batch', 'site_id_of' ), $documents ) );
		$this->assertSame( array( '', 200 ), array( $code, $status ) );
	}

	public function test_a_batch_of_the_largest_size_is_taken() {
		list( $documents ) = Bridge_Batch::read( self::body( Bridge_Batch::MAX_DOCUMENTS ) );
		$this->assertCount( Bridge_Batch::MAX_DOCUMENTS, $documents );
	}

	public function test_one_document_over_the_bound_refuses_the_batch_as_too_large() {
		list( $documents, $code, $status ) = Bridge_Batch::read( self::body( Bridge_Batch::MAX_DOCUMENTS + 1 ) );
		$this->assertNull( $documents );
		$this->assertSame( array( 'bridge_batch_too_large', 413 ), array( $code, $status ) );
	}

	public function test_a_body_over_the_byte_bound_is_refused_before_it_is_parsed() {
		$body = '{"documents":[' . str_repeat( ' ', Bridge_Batch::MAX_BODY_BYTES ) . ']}';
		list( $documents, $code, $status ) = Bridge_Batch::read( $body );
		$this->assertNull( $documents );
		$this->assertSame( array( 'bridge_batch_too_large', 413 ), array( $code, $status ) );
	}

	public function test_the_bound_fits_php_default_limits_with_a_wide_margin() {
		// 200 documents at a few ms each stay far inside the default 30 s max_execution_time.
		$this->assertLessThanOrEqual( 200, Bridge_Batch::MAX_DOCUMENTS );
		$before = memory_get_usage();
		list( $documents ) = Bridge_Batch::read( self::body( Bridge_Batch::MAX_DOCUMENTS ) );
		$this->assertLessThan( 16 * 1024 * 1024, memory_get_usage() - $before );
		$this->assertCount( Bridge_Batch::MAX_DOCUMENTS, $documents );
	}

	public function test_refuses_envelopes_that_are_not_a_non_empty_list_of_documents() {
		foreach ( array( '', '[]', '{}', '{"documents":[]}', '{"documents":{"a":1}}', '{"documents":"x"}', 'nope' ) as $body ) {
			list( $documents, $code, $status ) = Bridge_Batch::read( $body );
			$this->assertNull( $documents, $body );
			$this->assertSame( array( 'bridge_invalid_batch', 400 ), array( $code, $status ), $body );
		}
	}

	public function test_a_newer_version_is_answered_applied() {
		$this->assertSame(
			array(
				'site_id'         => 5,
				'status'          => 'applied',
				'applied_version' => 8,
			),
			Bridge_Batch::answer( 5, Bridge_Document::decide( 7, 8 ), 8 )
		);
	}

	public function test_an_equal_or_older_version_is_answered_stale_with_the_version_held() {
		$same  = Bridge_Batch::answer( 5, Bridge_Document::decide( 7, 7 ), 7 );
		$older = Bridge_Batch::answer( 5, Bridge_Document::decide( 9, 7 ), 9 );
		$this->assertSame( array( 'stale', 7 ), array( $same['status'], $same['applied_version'] ) );
		$this->assertSame( array( 'stale', 9 ), array( $older['status'], $older['applied_version'] ) );
	}

	public function test_an_error_answer_carries_code_sentence_and_status() {
		$this->assertSame(
			array(
				'site_id' => 9,
				'status'  => 'error',
				'code'    => 'bridge_unknown_site',
				'message' => 'There is no active site with id 9 on this network.',
				'http'    => 404,
			),
			Bridge_Batch::error( 9, 'bridge_unknown_site', 'There is no active site with id 9 on this network.', 404 )
		);
	}

	public function test_a_document_without_a_whole_site_id_names_no_site() {
		$this->assertNull( Bridge_Batch::site_id_of( array( 'site_id' => '2' ) ) );
		$this->assertNull( Bridge_Batch::site_id_of( 'x' ) );
		$this->assertSame( 2, Bridge_Batch::site_id_of( array( 'site_id' => 2 ) ) );
	}
}
