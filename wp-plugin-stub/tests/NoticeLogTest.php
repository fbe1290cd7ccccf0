<?php
/**
 * Notices: the pushed document's shape, the list of the last ones sent, the 80 % visits rule.
 *
 * @package Plan_Bridge
 */

use PHPUnit\Framework\TestCase;

/**
 * Bridge_Notice_Log.
 */
class NoticeLogTest extends TestCase {

	private static function doc( array $changes = array() ) {
		return array_merge(
			array(
				'id'      => 'payment_received-m1-r7',
				'kind'    => 'payment_received',
				'site_id' => 2,
				'user_id' => 5,
				'email'   => 'owner@example.invalid',
				'locale'  => 'nb_NO',
				'data'    => array( 'number' => 7 ),
			),
			$changes
		);
	}

	public function test_a_well_formed_notice_is_taken_as_it_is() {
		list( $doc, $why ) = Bridge_Notice_Log::validate( self::doc() );
		$this->assertSame( '', $why );
		$this->assertSame( 'payment_received-m1-r7', $doc['id'] );
		$this->assertSame( array( 'number' => 7 ), $doc['data'] );
	}

	public function test_an_unknown_kind_or_a_bad_id_is_refused_with_the_reason() {
		list( $doc, $why ) = Bridge_Notice_Log::validate( self::doc( array( 'kind' => 'lottery_won' ) ) );
		$this->assertNull( $doc );
		$this->assertSame( 'kind is not a known notice', $why );
		list( $doc, $why ) = Bridge_Notice_Log::validate( self::doc( array( 'id' => "a b\n" ) ) );
		$this->assertNull( $doc );
		$this->assertStringStartsWith( 'id must be', $why );
		list( $doc ) = Bridge_Notice_Log::validate( self::doc( array( 'site_id' => '2' ) ) );
		$this->assertNull( $doc );
	}

	public function test_the_log_keeps_the_newest_first_and_at_most_its_size() {
		$log = null;
		for ( $n = 1; $n <= Bridge_Notice_Log::KEEP + 3; $n++ ) {
			$log = Bridge_Notice_Log::remember( $log, array( 'id' => "n$n" ) );
		}
		$this->assertCount( Bridge_Notice_Log::KEEP, $log );
		$this->assertSame( 'n' . ( Bridge_Notice_Log::KEEP + 3 ), $log[0]['id'] );
	}

	public function test_the_visits_notice_is_due_from_80_percent_of_a_limit_when_on() {
		$this->assertFalse( Bridge_Notice_Log::visits_due( true, 799, 1000 ) );
		$this->assertTrue( Bridge_Notice_Log::visits_due( true, 800, 1000 ) );
		$this->assertFalse( Bridge_Notice_Log::visits_due( false, 900, 1000 ) );
		$this->assertFalse( Bridge_Notice_Log::visits_due( true, 900, null ) );
		$this->assertSame( 'visits_80-b3-202612', Bridge_Notice_Log::visits_id( 3, '202612' ) );
	}
}
