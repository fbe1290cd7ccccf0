<?php
/**
 * Receipts on the Account page: the newest receipts and credit notes the bridge pushed, each
 * opened through admin-post.php, which mints a fresh single-use receipt token (its own key,
 * ten minutes) and sends the browser to the bridge. No link that opens a receipt is ever stored.
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Lists receipts and opens one.
 */
class Bridge_Receipts {

	const ACTION = 'plan_bridge_receipt';

	/**
	 * Hooks.
	 */
	public static function register() {
		add_action( 'admin_post_' . self::ACTION, array( __CLASS__, 'open' ) );
	}

	/**
	 * admin-post.php?action=plan_bridge_receipt: the same people who may open the checkout.
	 */
	public static function open() {
		check_admin_referer( self::ACTION );
		if ( ! current_user_can( Bridge_Account_Page::CAPABILITY ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage this site.', 'plan-bridge' ), '', array( 'response' => 403 ) );
		}
		$key = Bridge_Settings::key( 'receipt' );
		$url = Bridge_Settings::bridge_url();
		if ( null === $key || '' === $url ) {
			wp_die( esc_html__( 'The connection to the billing service is not configured. Please contact the network administrator.', 'plan-bridge' ), '', array( 'response' => 503 ) );
		}
		$kind   = isset( $_POST['kind'] ) ? sanitize_key( wp_unslash( $_POST['kind'] ) ) : '';
		$number = isset( $_POST['number'] ) ? absint( wp_unslash( $_POST['number'] ) ) : 0;
		if ( ! self::listed( $kind, $number ) ) {
			wp_die( esc_html__( 'There is no such receipt for this site.', 'plan-bridge' ), '', array( 'response' => 404 ) );
		}
		$token = Bridge_Token::mint(
			$key,
			Bridge_Token::receipt_payload( get_current_blog_id(), get_current_user_id(), get_user_locale(), $kind, $number, time() )
		);
		wp_safe_redirect( $url . '/checkout/receipts/open?token=' . rawurlencode( $token ) );
		exit;
	}

	/**
	 * Whether the pushed membership lists this document (the bridge checks again).
	 *
	 * @param string $kind   "receipt" or "credit_note".
	 * @param int    $number Its number.
	 * @return bool
	 */
	private static function listed( $kind, $number ) {
		foreach ( self::items( Bridge_Limits_Store::membership() ) as $item ) {
			if ( isset( $item['kind'], $item['number'] ) && $kind === $item['kind'] && (int) $item['number'] === $number ) {
				return true;
			}
		}
		return false;
	}

	/**
	 * The pushed receipts list.
	 *
	 * @param array<string,mixed>|null $membership Membership snapshot.
	 * @return array<int,array<string,mixed>>
	 */
	private static function items( $membership ) {
		if ( ! is_array( $membership ) || empty( $membership['receipts'] ) || ! is_array( $membership['receipts'] ) ) {
			return array();
		}
		return array_values( array_filter( $membership['receipts'], 'is_array' ) );
	}

	/**
	 * The "Receipts" section of the Account page.
	 *
	 * @param array<string,mixed>|null $membership Membership snapshot.
	 * @param callable                 $money      Formats (amount, currency).
	 * @param callable                 $date       Formats an ISO instant.
	 */
	public static function render( $membership, $money, $date ) {
		$items = self::items( $membership );
		echo '<div id="plan-bridge-receipts"><h3>' . esc_html__( 'Receipts', 'plan-bridge' ) . '</h3>';
		if ( ! $items ) {
			echo '<p>' . esc_html__( 'No receipts yet.', 'plan-bridge' ) . '</p></div>';
			return;
		}
		echo '<table class="widefat striped"><thead><tr><th scope="col">' . esc_html__( 'Document', 'plan-bridge' ) . '</th><th scope="col">' . esc_html__( 'Date', 'plan-bridge' ) . '</th><th scope="col">' . esc_html__( 'Amount', 'plan-bridge' ) . '</th><th scope="col"><span class="screen-reader-text">' . esc_html__( 'Open', 'plan-bridge' ) . '</span></th></tr></thead><tbody>';
		foreach ( $items as $item ) {
			$kind   = isset( $item['kind'] ) && 'credit_note' === $item['kind'] ? 'credit_note' : 'receipt';
			$number = isset( $item['number'] ) ? (int) $item['number'] : 0;
			$title  = 'credit_note' === $kind
				/* translators: %d: credit note number. */
				? sprintf( __( 'Credit note %d', 'plan-bridge' ), $number )
				/* translators: %d: receipt number. */
				: sprintf( __( 'Receipt %d', 'plan-bridge' ), $number );
			$amount = call_user_func( $money, isset( $item['total'] ) ? $item['total'] : '0', isset( $item['currency'] ) ? (string) $item['currency'] : '' );
			if ( ! empty( $item['paid_from_balance'] ) ) {
				$amount .= ' ' . __( '(paid from your credit balance)', 'plan-bridge' );
			}
			echo '<tr><td>' . esc_html( $title ) . '</td><td>' . esc_html( call_user_func( $date, isset( $item['issued_at'] ) ? $item['issued_at'] : '' ) ) . '</td><td>' . esc_html( $amount ) . '</td><td>';
			echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
			echo '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '">';
			echo '<input type="hidden" name="kind" value="' . esc_attr( $kind ) . '">';
			echo '<input type="hidden" name="number" value="' . esc_attr( (string) $number ) . '">';
			wp_nonce_field( self::ACTION );
			/* translators: %s: the document, e.g. "Receipt 3". */
			echo '<button type="submit" class="button button-secondary" aria-label="' . esc_attr( sprintf( __( 'Open %s', 'plan-bridge' ), $title ) ) . '">' . esc_html__( 'Open', 'plan-bridge' ) . '</button></form></td></tr>';
		}
		echo '</tbody></table></div>';
	}
}
