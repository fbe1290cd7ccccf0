"""Every limitation encoding of schema.md §2.4 mapped onto our limits, one test per rule."""

from __future__ import annotations

from typing import Any

from bridge.domain.limits import UNLIMITED, Limits
from bridge.ultimate_multisite.limitations import map_limitations
from bridge.ultimate_multisite.serialized import Unreadable, unserialize


def _limits(modules: Any) -> Limits:
    return map_limitations(modules).limits


def test_visits_empty_is_unlimited() -> None:
    assert _limits({"visits": {"enabled": True, "limit": ""}}).visits == UNLIMITED


def test_visits_zero_is_unlimited() -> None:
    assert _limits({"visits": {"enabled": True, "limit": 0}}).visits == UNLIMITED


def test_visits_number_string_is_the_limit() -> None:
    assert _limits({"visits": {"enabled": True, "limit": "1000"}}).visits == 1000


def test_visits_module_off_is_unlimited() -> None:
    assert _limits({"visits": {"enabled": False, "limit": "10"}}).visits == UNLIMITED


def test_disk_number_is_megabytes() -> None:
    assert _limits({"disk_space": {"enabled": True, "limit": "500"}}).disk_mb == 500


def test_disk_module_off_is_unlimited_and_says_wordpress_quota_applied() -> None:
    mapped = map_limitations({"disk_space": {"enabled": False, "limit": "500"}})
    assert mapped.limits.disk_mb == UNLIMITED
    assert any("WordPress's default upload quota" in n for n in mapped.notes)


def test_post_type_number_empty_is_unlimited_and_a_number_is_kept() -> None:
    modules = {
        "post_types": {
            "enabled": True,
            "limit": {
                "post": {"enabled": True, "number": "50"},
                "page": {"enabled": True, "number": ""},
            },
        }
    }
    assert dict(_limits(modules).posts) == {"post": 50, "page": UNLIMITED}


def test_post_type_disabled_is_zero() -> None:
    modules = {
        "post_types": {"enabled": True, "limit": {"page": {"enabled": False, "number": "9"}}}
    }
    assert dict(_limits(modules).posts) == {"page": 0}


def test_post_types_module_off_is_no_post_limit() -> None:
    modules = {
        "post_types": {"enabled": False, "limit": {"post": {"enabled": True, "number": "5"}}}
    }
    assert dict(_limits(modules).posts) == {}


def test_users_per_role_are_summed_and_disabled_roles_count_zero() -> None:
    modules = {
        "users": {
            "enabled": True,
            "limit": {
                "editor": {"enabled": True, "number": "1"},
                "author": {"enabled": True, "number": 2},
                "contributor": {"enabled": False, "number": ""},
            },
        }
    }
    mapped = map_limitations(modules)
    assert mapped.limits.users == 3
    assert any("their sum 3" in n for n in mapped.notes)


def test_users_unlimited_when_any_role_is() -> None:
    modules = {
        "users": {
            "enabled": True,
            "limit": {
                "editor": {"enabled": True, "number": "1"},
                "author": {"enabled": True, "number": ""},
            },
        }
    }
    assert _limits(modules).users == UNLIMITED


def test_users_module_off_is_unlimited() -> None:
    assert _limits({"users": {"enabled": False, "limit": {}}}).users == UNLIMITED


def test_sites_empty_counts_as_one() -> None:
    assert _limits({"sites": {"enabled": True, "limit": ""}}).sites == 1


def test_sites_number_is_kept_and_module_off_is_unlimited() -> None:
    assert _limits({"sites": {"enabled": True, "limit": "3"}}).sites == 3
    assert _limits({"sites": {"enabled": False, "limit": "3"}}).sites == UNLIMITED


def test_domain_mapping_off_or_false_is_none_allowed() -> None:
    assert _limits({"domain_mapping": {"enabled": False, "limit": None}}).custom_domains == 0
    assert _limits({"domain_mapping": {"enabled": True, "limit": False}}).custom_domains == 0


def test_domain_mapping_true_or_null_is_unlimited() -> None:
    assert _limits({"domain_mapping": {"enabled": True, "limit": None}}).custom_domains == UNLIMITED
    assert _limits({"domain_mapping": {"enabled": True, "limit": True}}).custom_domains == UNLIMITED


def test_domain_mapping_number_is_the_count() -> None:
    assert _limits({"domain_mapping": {"enabled": True, "limit": 2}}).custom_domains == 2


def test_a_module_without_enabled_counts_as_on() -> None:
    assert _limits({"sites": {"limit": "4"}}).sites == 4


def test_a_module_given_as_json_is_read() -> None:
    assert _limits({"visits": '{"enabled": true, "limit": "250"}'}).visits == 250


def test_modules_without_counterpart_are_reported_not_dropped_silently() -> None:
    mapped = map_limitations(
        {
            "plugins": {
                "enabled": True,
                "limit": {"akismet/akismet.php": {"visibility": "hidden"}},
            },
            "site_templates": {"enabled": True, "limit": {"5": {"behavior": "available"}}},
            "mystery": {"enabled": True, "limit": 1},
        }
    )
    assert mapped.limits.is_empty()
    assert any(n.startswith("plugins limits have no counterpart") for n in mapped.notes)
    assert any(n.startswith("site_templates limits have no counterpart") for n in mapped.notes)
    assert any("unknown module mystery" in n for n in mapped.notes)


def test_absent_modules_stay_absent_like_an_add_on_difference() -> None:
    assert _limits({"sites": {"enabled": True, "limit": "1"}}) == Limits(sites=1)


def test_the_fixture_plan_of_schema_md_reads_as_described() -> None:
    raw = (
        'a:6:{s:10:"post_types";a:2:{s:7:"enabled";b:1;s:5:"limit";a:2:{s:4:"post";a:2:{s:7:"enabled";b:1;'
        's:6:"number";s:2:"50";}s:4:"page";a:2:{s:7:"enabled";b:1;s:6:"number";s:0:"";}}}s:5:"sites";a:2:'
        '{s:7:"enabled";b:1;s:5:"limit";s:1:"1";}s:6:"visits";a:2:{s:7:"enabled";b:1;s:5:"limit";'
        's:4:"1000";}s:10:"disk_space";a:2:{s:7:"enabled";b:1;s:5:"limit";s:3:"500";}s:5:"users";a:2:'
        '{s:7:"enabled";b:1;s:5:"limit";a:2:{s:6:"editor";a:2:{s:7:"enabled";b:1;s:6:"number";s:1:"1";}'
        's:6:"author";a:2:{s:7:"enabled";b:0;s:6:"number";s:0:"";}}}s:14:"domain_mapping";a:2:'
        '{s:7:"enabled";b:0;s:5:"limit";N;}}'
    )
    assert _limits(unserialize(raw)) == Limits(
        visits=1000,
        disk_mb=500,
        users=1,
        custom_domains=0,
        sites=1,
        posts={"post": 50, "page": UNLIMITED},
    )


def test_the_migrated_limitations_object_reads_like_the_array() -> None:
    raw = (
        'O:29:"WP_Ultimo\\Objects\\Limitations":2:{s:5:"sites";a:2:{s:5:"limit";i:1;s:7:"enabled";b:1;}'
        's:14:"domain_mapping";a:1:{s:7:"enabled";b:0;}}'
    )
    assert _limits(unserialize(raw)) == Limits(sites=1, custom_domains=0)


def test_an_unreadable_value_is_refused_with_its_reason() -> None:
    value = unserialize('a:1:{s:5:"sites";a:2:{s:7:"enab')
    assert isinstance(value, Unreadable)
    mapped = map_limitations(value)
    assert mapped.unreadable is not None and mapped.limits.is_empty()


def test_an_object_of_another_class_is_refused() -> None:
    mapped = map_limitations(unserialize('O:8:"stdClass":1:{s:1:"a";i:1;}'))
    assert mapped.unreadable is not None and "stdClass" in mapped.unreadable
