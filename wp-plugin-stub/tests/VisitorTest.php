<?php
/**
 * What counts as a visit: bots by user agent, one visitor per 30 minutes, salted daily hashes.
 *
 * @package Plan_Bridge
 */

use PHPUnit\Framework\TestCase;

/**
 * Bridge_Visitor.
 */
class VisitorTest extends TestCase {

	const NOW     = 1776000000;
	const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

	public function test_known_bots_and_an_empty_user_agent_are_bots() {
		$bots = array(
			'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
			'Mozilla/5.0 (compatible; bingbot/2.0)',
			'Mozilla/5.0 (compatible; Yahoo! Slurp)',
			'Baiduspider+(+http://www.baidu.com/search/spider.htm)',
			'CCBot/2.0 crawler',
			'curl/8.5.0',
			'Wget/1.21',
			'Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/126.0 Safari/537.36',
			'python-requests/2.32',
			'',
			'   ',
		);
		foreach ( $bots as $agent ) {
			$this->assertTrue( Bridge_Visitor::is_bot( $agent, Bridge_Visitor::BOT_SUBSTRINGS ), $agent );
		}
	}

	public function test_a_browser_is_not_a_bot() {
		$this->assertFalse( Bridge_Visitor::is_bot( self::BROWSER, Bridge_Visitor::BOT_SUBSTRINGS ) );
		$this->assertFalse( Bridge_Visitor::is_bot( 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1', Bridge_Visitor::BOT_SUBSTRINGS ) );
	}

	public function test_the_visitor_hash_is_short_salted_per_day_and_keeps_no_address() {
		$today    = Bridge_Visitor::daily_salt( 'secret', '2026-04-11' );
		$tomorrow = Bridge_Visitor::daily_salt( 'secret', '2026-04-12' );
		$hash     = Bridge_Visitor::visitor_hash( '203.0.113.7', self::BROWSER, $today );

		$this->assertMatchesRegularExpression( '/^[0-9a-f]{16}$/', $hash );
		$this->assertSame( $hash, Bridge_Visitor::visitor_hash( '203.0.113.7', self::BROWSER, $today ) );
		$this->assertNotSame( $hash, Bridge_Visitor::visitor_hash( '203.0.113.7', self::BROWSER, $tomorrow ) );
		$this->assertNotSame( $hash, Bridge_Visitor::visitor_hash( '203.0.113.8', self::BROWSER, $today ) );
		$this->assertNotSame( $hash, Bridge_Visitor::visitor_hash( '203.0.113.7', self::BROWSER . ' Edg/126', $today ) );
		$this->assertNotSame( $today, Bridge_Visitor::daily_salt( 'another secret', '2026-04-11' ) );
	}

	public function test_repeat_views_within_thirty_minutes_count_once() {
		list( $first, $seen ) = Bridge_Visitor::remember( array(), 'aaaa', self::NOW );
		list( $again, $seen ) = Bridge_Visitor::remember( $seen, 'aaaa', self::NOW + 1799 );
		list( $later, $seen ) = Bridge_Visitor::remember( $seen, 'aaaa', self::NOW + 1800 );
		list( $other, $seen ) = Bridge_Visitor::remember( $seen, 'bbbb', self::NOW + 1800 );

		$this->assertSame( array( true, false, true, true ), array( $first, $again, $later, $other ) );
		$this->assertSame(
			array(
				'aaaa' => self::NOW + 1800,
				'bbbb' => self::NOW + 1800,
			),
			$seen
		);
	}

	public function test_a_repeat_view_does_not_extend_the_window() {
		list( , $seen ) = Bridge_Visitor::remember( array(), 'aaaa', self::NOW );
		list( , $same ) = Bridge_Visitor::remember( $seen, 'aaaa', self::NOW + 600 );
		$this->assertSame( $seen, $same );
	}

	public function test_the_seen_list_forgets_expired_visitors_and_keeps_at_most_the_newest() {
		$seen = array(
			'old1' => self::NOW - 4000,
			'old2' => self::NOW - 1801,
			'new1' => self::NOW - 60,
			'new2' => self::NOW - 30,
			'new3' => self::NOW - 10,
		);
		list( $counted, $kept ) = Bridge_Visitor::remember( $seen, 'next', self::NOW, 1800, 3 );

		$this->assertTrue( $counted );
		$this->assertSame(
			array(
				'new2' => self::NOW - 30,
				'new3' => self::NOW - 10,
				'next' => self::NOW,
			),
			$kept
		);
	}
}
