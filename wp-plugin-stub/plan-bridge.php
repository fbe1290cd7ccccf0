<?php
/**
 * Plugin Name:       Plan Bridge
 * Description:       Receives plan limits from the Plan Bridge billing service, enforces them on every site of the network and shows each site's membership on its Account page.
 * Version:           0.1.0
 * Requires at least: 5.6
 * Requires PHP:      7.4
 * Author:            Plan Bridge
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       plan-bridge
 * Domain Path:       /languages
 * Network:           true
 *
 * @package Plan_Bridge
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'PLAN_BRIDGE_VERSION', '0.1.0' );
define( 'PLAN_BRIDGE_FILE', __FILE__ );
define( 'PLAN_BRIDGE_DIR', __DIR__ . '/includes/' );

require_once PLAN_BRIDGE_DIR . 'class-bridge-signature.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-token.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-document.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-batch.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-settings.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-limits-store.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-usage.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-events.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-limits-controller.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-xmlrpc.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-post-limits.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-user-limits.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-disk-limits.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-visitor.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-visits.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-account-page.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-receipts.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-network-page.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-notice-log.php';
require_once PLAN_BRIDGE_DIR . 'class-bridge-notices.php';

/**
 * Loads translations from the plugin's own languages directory.
 */
function plan_bridge_load_textdomain() {
	load_plugin_textdomain( 'plan-bridge', false, dirname( plugin_basename( PLAN_BRIDGE_FILE ) ) . '/languages' );
}
add_action( 'init', 'plan_bridge_load_textdomain' );

/**
 * Network activation: turn WordPress's own upload quota on so the disk limit is enforced.
 */
function plan_bridge_activate() {
	update_site_option( 'upload_space_check_disabled', 0 );
}
register_activation_hook( __FILE__, 'plan_bridge_activate' );

if ( is_multisite() ) {
	Bridge_Events::register();
	Bridge_Usage::register();
	Bridge_Limits_Controller::register();
	Bridge_Xmlrpc::register();
	Bridge_Post_Limits::register();
	Bridge_User_Limits::register();
	Bridge_Disk_Limits::register();
	Bridge_Visits::register();
	Bridge_Account_Page::register();
	Bridge_Receipts::register();
	Bridge_Network_Page::register();
	Bridge_Notices::register();
}
