<?php
/**
 * What counts as a visit: the pure rules (bots, the visitor's daily hash, the 30-minute window).
 *
 * WordPress-free on purpose: PHPUnit tests it without loading WordPress. Bridge_Visits applies it
 * to requests and stores the list of recently seen visitors.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) && ! defined( 'PLAN_BRIDGE_TESTING' ) ) {
	exit;
}

/**
 * Recognises bots and repeat views without keeping anything that identifies a visitor.
 */
class Bridge_Visitor {

	/**
	 * Lower-case pieces of user agents that are not people (matched anywhere in the user agent).
	 *
	 * @var string[]
	 */
	const BOT_SUBSTRINGS = array( 'bot', 'crawl', 'spider', 'slurp', 'curl', 'wget', 'headless', 'python-requests', 'go-http-client' );

	/**
	 * Repeat views by one visitor within this many seconds of the counted view count once.
	 */
	const WINDOW_S = 1800;

	/**
	 * At most this many recent visitors are remembered per site (about 60 kB); beyond it the
	 * oldest are forgotten, so a very busy site may count a returning visitor twice.
	 */
	const MAX_SEEN = 2000;

	/**
	 * Whether a user agent is a bot: empty, or containing one of the substrings.
	 *
	 * @param string   $user_agent The User-Agent header.
	 * @param string[] $substrings Lower-case substrings.
	 * @return bool
	 */
	public static function is_bot( $user_agent, array $substrings ) {
		$agent = strtolower( trim( (string) $user_agent ) );
		if ( '' === $agent ) {
			return true;
		}
		foreach ( $substrings as $piece ) {
			if ( '' !== (string) $piece && false !== strpos( $agent, strtolower( (string) $piece ) ) ) {
				return true;
			}
		}
		return false;
	}

	/**
	 * The salt of one day: HMAC-SHA256(secret, "plan-bridge/visits/v1/" . day). A new salt every
	 * day means yesterday's hashes can neither be matched nor linked to today's.
	 *
	 * @param string $secret A server-side secret (WordPress's salts).
	 * @param string $day    The day, Y-m-d (UTC).
	 * @return string Raw bytes.
	 */
	public static function daily_salt( $secret, $day ) {
		return hash_hmac( 'sha256', 'plan-bridge/visits/v1/' . $day, (string) $secret, true );
	}

	/**
	 * A short, salted hash of (address, user agent); the address itself is never kept.
	 *
	 * @param string $address    The client's IP address.
	 * @param string $user_agent The User-Agent header.
	 * @param string $salt       daily_salt().
	 * @return string 16 hex characters.
	 */
	public static function visitor_hash( $address, $user_agent, $salt ) {
		return substr( hash_hmac( 'sha256', (string) $address . "\n" . (string) $user_agent, $salt ), 0, 16 );
	}

	/**
	 * Whether a view is a new visit, and the updated list of recently seen visitors.
	 *
	 * A visitor seen less than $window_s ago is not counted and the list is returned unchanged
	 * (a repeat view does not extend the window). Otherwise the view counts: visitors older than
	 * the window are forgotten, this one is remembered, and only the $max newest are kept.
	 *
	 * @param array<string,int> $seen     Visitor hash => unix time of its counted view.
	 * @param string            $hash     This view's visitor hash.
	 * @param int               $now      Unix time now.
	 * @param int               $window_s Window in seconds.
	 * @param int               $max      How many visitors to remember at most.
	 * @return array{0: bool, 1: array<string,int>}
	 */
	public static function remember( array $seen, $hash, $now, $window_s = self::WINDOW_S, $max = self::MAX_SEEN ) {
		if ( isset( $seen[ $hash ] ) && $now - (int) $seen[ $hash ] < $window_s ) {
			return array( false, $seen );
		}
		$kept = array();
		foreach ( $seen as $key => $at ) {
			if ( $now - (int) $at < $window_s && (string) $key !== $hash ) {
				$kept[ (string) $key ] = (int) $at;
			}
		}
		$kept[ $hash ] = (int) $now;
		if ( count( $kept ) > $max ) {
			asort( $kept );
			$kept = array_slice( $kept, -$max, null, true );
		}
		return array( true, $kept );
	}
}
