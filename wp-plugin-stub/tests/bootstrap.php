<?php
/**
 * PHPUnit bootstrap: the pure classes only, without WordPress.
 *
 * @package Plan_Bridge
 */

define( 'PLAN_BRIDGE_TESTING', true );

require_once dirname( __DIR__ ) . '/includes/class-bridge-signature.php';
require_once dirname( __DIR__ ) . '/includes/class-bridge-token.php';
require_once dirname( __DIR__ ) . '/includes/class-bridge-document.php';
require_once dirname( __DIR__ ) . '/includes/class-bridge-batch.php';
require_once dirname( __DIR__ ) . '/includes/class-bridge-visitor.php';
require_once dirname( __DIR__ ) . '/includes/class-bridge-notice-log.php';
