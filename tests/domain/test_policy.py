"""Safety policies: checklist, graduation, approval gate, four eyes, escalation,
review cadence, pause rules and kill switches."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sophmate_desktop.domain.enums import EffectKind, ReviewKind, RunMode, Stage, SwitchScope
from sophmate_desktop.domain.policy import (
    CHECKLIST_ITEMS,
    EscalationFlag,
    GateDecision,
    ReviewDue,
    SwitchState,
    approval_decision,
    blocking_switch,
    checklist_refusal,
    escalation_flags,
    four_eyes_refusal,
    graduation_refusal,
    missing_checklist_items,
    overdue_escalates,
    pauses_on_plugin_update,
    pauses_on_provider_change,
    reviews_due,
    should_pause_after_failure,
    switch_refusal_text,
)
from sophmate_desktop.domain.workflow import (
    ApprovalSpec,
    InputSpec,
    NotifySpec,
    OutputSpec,
    PauseSpec,
    RetrySpec,
    StepSpec,
    TriggerSpec,
    WorkflowDefinition,
)

# --- production checklist -------------------------------------------------------------


def complete_definition(**changes) -> WorkflowDefinition:
    defn = WorkflowDefinition(
        name="invoice-intake",
        category="finance",
        owner="ops-lead",
        trigger=TriggerSpec(folder="~/invoices/incoming", patterns=("*.csv",)),
        input=InputSpec(read="csv"),
        output=OutputSpec(paths=("~/accounting/inbox",), staging_paths=("~/acc/staging",)),
        steps=(StepSpec(action="copy_file", params={"to": "{{ output.path }}/x"}),),
        approval=ApprovalSpec(mode="until_reviewed", reviewed_runs=10),
        retry=RetrySpec(limit=2, backoff_s=30),
        notify=NotifySpec(on_failure=("tray", "email:ops@example.test")),
        pause=PauseSpec(consecutive_failures=3),
        rollback="Remove the copies listed in the run's writes.",
    )
    return dataclasses.replace(defn, **changes)


def test_complete_definition_passes_checklist():
    defn = complete_definition()
    assert missing_checklist_items(defn) == []
    assert checklist_refusal(defn) is None


@pytest.mark.parametrize(
    ("changes", "item"),
    [
        ({"owner": None}, "owner"),
        ({"owner": ""}, "owner"),
        ({"owner": "   "}, "owner"),
        ({"trigger": None}, "trigger"),
        ({"input": None}, "input scope"),
        ({"output": None}, "output"),
        ({"output": OutputSpec(paths=(), staging_paths=("~/s",))}, "output"),
        ({"approval": None}, "approval gate"),
        ({"retry": None}, "retry limit"),
        ({"notify": None}, "notification path"),
        ({"notify": NotifySpec(on_failure=())}, "notification path"),
        ({"pause": None}, "pause rule"),
        ({"rollback": None}, "rollback path"),
        ({"rollback": " \n\t"}, "rollback path"),
    ],
)
def test_each_missing_item_is_named(changes, item):
    defn = complete_definition(**changes)
    assert missing_checklist_items(defn) == [item]
    assert checklist_refusal(defn) == f"cannot enable invoice-intake: missing {item}"


def test_bare_definition_misses_everything_in_order():
    bare = WorkflowDefinition(name="bare", category="misc")
    assert missing_checklist_items(bare) == list(CHECKLIST_ITEMS)
    assert checklist_refusal(bare) == "cannot enable bare: missing " + ", ".join(CHECKLIST_ITEMS)


def test_refusal_names_each_missing_item_in_checklist_order():
    defn = complete_definition(rollback=None, notify=None)
    assert missing_checklist_items(defn) == ["notification path", "rollback path"]
    assert checklist_refusal(defn) == (
        "cannot enable invoice-intake: missing notification path, rollback path"
    )


_REMOVALS = {
    "owner": {"owner": None},
    "trigger": {"trigger": None},
    "input scope": {"input": None},
    "output": {"output": None},
    "approval gate": {"approval": None},
    "retry limit": {"retry": None},
    "notification path": {"notify": None},
    "pause rule": {"pause": None},
    "rollback path": {"rollback": None},
}


@given(st.sets(st.sampled_from(CHECKLIST_ITEMS)))
def test_any_combination_of_removals_is_reported_exactly(removed):
    changes: dict = {}
    for item in removed:
        changes.update(_REMOVALS[item])
    defn = complete_definition(**changes)
    expected = [item for item in CHECKLIST_ITEMS if item in removed]
    assert missing_checklist_items(defn) == expected
    assert (checklist_refusal(defn) is None) is (not removed)


# --- graduation -----------------------------------------------------------------------


def graduate(current, target, *, dry=1, staging=5, required=5, missing=()):
    return graduation_refusal(
        current,
        target,
        reviewed_successful_dry_runs=dry,
        reviewed_successful_staging_runs=staging,
        required_staging_runs=required,
        missing_checklist=list(missing),
    )


def test_dry_run_to_staging_needs_a_reviewed_dry_run():
    assert graduate(Stage.DRY_RUN, Stage.STAGING, dry=1) is None
    assert graduate(Stage.DRY_RUN, Stage.STAGING, dry=4) is None
    refusal = graduate(Stage.DRY_RUN, Stage.STAGING, dry=0)
    assert refusal is not None
    assert "needs 1 reviewed successful dry run (0 so far)" in refusal


def test_staging_checklist_is_not_required_for_staging():
    assert graduate(Stage.DRY_RUN, Stage.STAGING, missing=["rollback path"]) is None


def test_staging_to_production_counts_reviewed_staging_runs():
    refusal = graduate(Stage.STAGING, Stage.PRODUCTION, staging=3, required=5)
    assert refusal is not None
    assert "3 of 5 reviewed staging runs" in refusal
    assert "missing" not in refusal
    assert graduate(Stage.STAGING, Stage.PRODUCTION, staging=5, required=5) is None
    assert graduate(Stage.STAGING, Stage.PRODUCTION, staging=9, required=5) is None


def test_required_staging_runs_is_per_workflow():
    refusal = graduate(Stage.STAGING, Stage.PRODUCTION, staging=1, required=2)
    assert refusal is not None and "1 of 2 reviewed staging runs" in refusal
    assert graduate(Stage.STAGING, Stage.PRODUCTION, staging=2, required=2) is None
    assert graduate(Stage.STAGING, Stage.PRODUCTION, staging=0, required=0) is None


def test_production_needs_complete_checklist():
    refusal = graduate(
        Stage.STAGING, Stage.PRODUCTION, staging=5, missing=["notification path", "rollback path"]
    )
    assert refusal is not None
    assert "notification path, rollback path" in refusal
    assert "reviewed staging runs" not in refusal


def test_production_refusal_gives_both_reasons():
    refusal = graduate(Stage.STAGING, Stage.PRODUCTION, staging=3, missing=["owner"])
    assert refusal is not None
    assert "3 of 5 reviewed staging runs" in refusal
    assert "missing owner" in refusal


def test_skipping_staging_is_refused_whatever_the_counts():
    refusal = graduate(Stage.DRY_RUN, Stage.PRODUCTION, dry=10, staging=10)
    assert refusal == "cannot go from dry_run to production: promote to staging first"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Stage.PRODUCTION, Stage.STAGING),
        (Stage.PRODUCTION, Stage.DRY_RUN),
        (Stage.STAGING, Stage.DRY_RUN),
    ],
)
def test_demotion_is_always_allowed(current, target):
    assert (
        graduate(current, target, dry=0, staging=0, required=5, missing=list(CHECKLIST_ITEMS))
        is None
    )


@pytest.mark.parametrize("stage", list(Stage))
def test_same_stage_is_refused(stage):
    assert graduate(stage, stage) == f"already in {stage}"


def test_graduation_accepts_stored_strings():
    assert graduate("staging", "staging") == "already in staging"
    assert graduate("dry_run", "staging", dry=1) is None


# --- approval gate --------------------------------------------------------------------


def gate(mode=RunMode.PRODUCTION, approval=None, *, cf=False, clean=0, tightened=False):
    return approval_decision(
        mode=mode,
        approval=approval,
        customer_facing=cf,
        clean_approved_runs=clean,
        gate_tightened=tightened,
    )


UNTIL_10 = ApprovalSpec(mode="until_reviewed", reviewed_runs=10)


@pytest.mark.parametrize("approval", [None, UNTIL_10, ApprovalSpec(mode="always")])
def test_dry_run_is_planned_only(approval):
    assert gate(RunMode.DRY_RUN, approval, clean=100) == GateDecision(True, "dry run: planned only")


@pytest.mark.parametrize("mode", [RunMode.STAGING, RunMode.PRODUCTION])
def test_no_declared_gate_needs_approval(mode):
    assert gate(mode, None, clean=100) == GateDecision(True, "no approval gate declared")


@pytest.mark.parametrize("mode", [RunMode.STAGING, RunMode.PRODUCTION])
def test_always_needs_approval_forever(mode):
    decision = gate(mode, ApprovalSpec(mode="always", reviewed_runs=1), clean=1000)
    assert decision.needs_approval
    assert "always" in decision.reason


def test_unknown_gate_mode_never_relaxes():
    decision = gate(approval=ApprovalSpec(mode="sometimes", reviewed_runs=0), clean=50)
    assert decision.needs_approval


def test_until_reviewed_counts_clean_runs():
    assert gate(approval=UNTIL_10, clean=7) == GateDecision(
        True, "7 of 10 approved runs without failure"
    )
    assert gate(approval=UNTIL_10, clean=0).reason == "0 of 10 approved runs without failure"
    assert gate(approval=UNTIL_10, clean=10) == GateDecision(
        False, "approval gate relaxed after 10 clean runs"
    )
    assert not gate(RunMode.STAGING, UNTIL_10, clean=12).needs_approval


def test_relaxed_gate_tightens_again():
    decision = gate(approval=UNTIL_10, clean=10, tightened=True)
    assert decision.needs_approval
    assert "tightened" in decision.reason
    assert "failed run" in decision.reason and "connection" in decision.reason


def test_customer_facing_needs_approval_unless_overridden():
    decision = gate(approval=UNTIL_10, cf=True, clean=50)
    assert decision.needs_approval
    assert "customer-facing" in decision.reason
    overridden = ApprovalSpec(
        mode="until_reviewed", reviewed_runs=10, customer_facing_override=True
    )
    assert not gate(approval=overridden, cf=True, clean=50).needs_approval
    assert gate(approval=overridden, cf=True, clean=3).needs_approval


def test_customer_facing_override_does_not_lift_always():
    always = ApprovalSpec(mode="always", customer_facing_override=True)
    assert gate(approval=always, cf=True, clean=50).needs_approval


@given(
    mode=st.sampled_from(list(RunMode)),
    approval=st.one_of(
        st.none(),
        st.builds(
            ApprovalSpec,
            mode=st.sampled_from(["always", "until_reviewed"]),
            reviewed_runs=st.integers(0, 20),
            customer_facing_override=st.booleans(),
        ),
    ),
    cf=st.booleans(),
    clean=st.integers(0, 30),
    tightened=st.booleans(),
)
def test_gate_relaxes_only_when_every_condition_holds(mode, approval, cf, clean, tightened):
    decision = gate(mode, approval, cf=cf, clean=clean, tightened=tightened)
    assert decision.reason
    relaxed_allowed = (
        mode is not RunMode.DRY_RUN
        and approval is not None
        and approval.mode == "until_reviewed"
        and clean >= approval.reviewed_runs
        and not tightened
        and (not cf or approval.customer_facing_override)
    )
    assert decision.needs_approval is not relaxed_allowed


# --- four eyes ------------------------------------------------------------------------


def test_four_eyes_refuses_the_last_editor():
    refusal = four_eyes_refusal(
        approver="ana", last_changed_by="ana", enabled=True, workflow="invoice-intake"
    )
    assert refusal == (
        "you changed workflow invoice-intake last; four-eyes rule: another person must approve"
    )


def test_four_eyes_compares_names_loosely():
    assert four_eyes_refusal(approver=" Ana ", last_changed_by="ana", enabled=True, workflow="w")
    assert four_eyes_refusal(approver="ANA", last_changed_by="  ana\n", enabled=True, workflow="w")


@pytest.mark.parametrize(
    ("approver", "last", "enabled"),
    [
        ("bob", "ana", True),
        ("ana", "ana", False),
        ("ana", None, True),
        ("ana", "  ", True),
        ("anastasia", "ana", True),
    ],
)
def test_four_eyes_allows(approver, last, enabled):
    assert (
        four_eyes_refusal(approver=approver, last_changed_by=last, enabled=enabled, workflow="w")
        is None
    )


# --- escalation -----------------------------------------------------------------------


def flags(**kw):
    args = {
        "stage": Stage.STAGING,
        "has_owner": True,
        "consecutive_failures": 0,
        "failure_threshold": 3,
        "writes_production_data": False,
        "sends_customer_facing": False,
    }
    args.update(kw)
    return escalation_flags(**args)


def test_quiet_workflow_has_no_flags():
    assert flags() == []


def test_production_writes_flag_needs_production_stage():
    assert flags(writes_production_data=True) == []
    assert [f.code for f in flags(stage=Stage.PRODUCTION, writes_production_data=True)] == [
        "production_writes"
    ]
    assert flags(stage=Stage.PRODUCTION) == []


def test_repeated_failures_flag_from_two():
    assert flags(consecutive_failures=1) == []
    (flag,) = flags(consecutive_failures=2)
    assert flag.code == "repeated_failures"
    assert "2 runs in a row" in flag.reason
    assert "3" in flag.reason


def test_customer_facing_and_no_owner_flags():
    assert flags(sends_customer_facing=True) == [
        EscalationFlag("customer_facing", "sends customer-facing output")
    ]
    assert flags(has_owner=False) == [EscalationFlag("no_owner", "has no visible owner")]


def test_all_flags_in_order_with_reasons():
    result = flags(
        stage=Stage.PRODUCTION,
        has_owner=False,
        consecutive_failures=5,
        writes_production_data=True,
        sends_customer_facing=True,
    )
    assert [f.code for f in result] == [
        "production_writes",
        "repeated_failures",
        "customer_facing",
        "no_owner",
    ]
    assert all(f.reason for f in result)


# --- review cadence -------------------------------------------------------------------

T0 = dt.datetime(2026, 11, 1, 9, 0)
DAY = dt.timedelta(days=1)


def due(now, **kw):
    args = {
        "created_at": T0,
        "last_reviewed_at": None,
        "first_run_reviewed": False,
        "last_failure_at": None,
        "last_provider_change_at": None,
    }
    args.update(kw)
    return reviews_due(now=now, **args)


def test_first_run_review_due_at_creation_and_overdue_after_grace():
    (item,) = due(T0)
    assert item.kind is ReviewKind.FIRST_RUN and item.due_at == T0 and not item.overdue
    (item,) = due(T0 + 7 * DAY)
    assert not item.overdue, "overdue only after the grace period"
    (item,) = due(T0 + 7 * DAY + dt.timedelta(seconds=1))
    assert item.overdue and overdue_escalates(item)
    assert "overdue" in item.reason


def test_nothing_due_after_first_review():
    assert due(T0 + DAY, first_run_reviewed=True, last_reviewed_at=T0 + DAY) == []
    assert due(T0 + 29 * DAY, first_run_reviewed=True) == []


def test_after_failure_due_until_reviewed():
    failed = T0 + 3 * DAY
    kw = {"first_run_reviewed": True, "last_reviewed_at": T0 + DAY, "last_failure_at": failed}
    assert due(failed - dt.timedelta(minutes=1), **kw) == [], "not due before it happened"
    (item,) = due(failed + DAY, **kw)
    assert item.kind is ReviewKind.AFTER_FAILURE and item.due_at == failed
    assert not item.overdue
    assert "2026-11-04 09:00 UTC" in item.reason
    (item,) = due(failed + 8 * DAY, **kw)
    assert item.overdue
    reviewed = dict(kw, last_reviewed_at=failed + DAY)
    assert due(failed + 2 * DAY, **reviewed) == []


def test_failure_without_any_review_is_due():
    failed = T0 + DAY
    kinds = [d.kind for d in due(failed, last_failure_at=failed, first_run_reviewed=True)]
    assert kinds == [ReviewKind.AFTER_FAILURE]


def test_provider_change_due_until_reviewed():
    changed = T0 + 2 * DAY
    kw = {"first_run_reviewed": True, "last_reviewed_at": T0, "last_provider_change_at": changed}
    (item,) = due(changed, **kw)
    assert item.kind is ReviewKind.PROVIDER_CHANGE and item.due_at == changed
    assert due(changed + DAY, **dict(kw, last_reviewed_at=changed + DAY)) == []
    # A review at the very moment of the change covers it.
    assert due(changed + DAY, **dict(kw, last_reviewed_at=changed)) == []


def test_monthly_review_from_last_review_or_creation():
    (item,) = due(T0 + 30 * DAY, first_run_reviewed=True)
    assert item.kind is ReviewKind.MONTHLY and item.due_at == T0 + 30 * DAY
    assert not item.overdue
    reviewed = T0 + 10 * DAY
    assert due(T0 + 31 * DAY, first_run_reviewed=True, last_reviewed_at=reviewed) == []
    (item,) = due(reviewed + 38 * DAY, first_run_reviewed=True, last_reviewed_at=reviewed)
    assert item.due_at == reviewed + 30 * DAY and item.overdue


def test_custom_cadence():
    kw = {"first_run_reviewed": True, "monthly_days": 7, "grace_days": 1}
    (item,) = due(T0 + 7 * DAY, **kw)
    assert item.kind is ReviewKind.MONTHLY and not item.overdue
    (item,) = due(T0 + 9 * DAY, **kw)
    assert item.overdue


def test_reviews_ordered_by_due_time():
    now = T0 + 40 * DAY
    items = due(
        now,
        last_failure_at=T0 + 35 * DAY,
        last_provider_change_at=T0 + 5 * DAY,
    )
    assert [d.kind for d in items] == [
        ReviewKind.FIRST_RUN,
        ReviewKind.PROVIDER_CHANGE,
        ReviewKind.MONTHLY,
        ReviewKind.AFTER_FAILURE,
    ]
    assert [d.overdue for d in items] == [True, True, True, False]
    assert all(isinstance(d, ReviewDue) and d.reason for d in items)


@given(
    now_days=st.integers(0, 120),
    reviewed_days=st.one_of(st.none(), st.integers(0, 120)),
    failure_days=st.one_of(st.none(), st.integers(0, 120)),
    change_days=st.one_of(st.none(), st.integers(0, 120)),
    first=st.booleans(),
)
def test_reviews_due_properties(now_days, reviewed_days, failure_days, change_days, first):
    def at(days):
        return None if days is None else T0 + days * DAY

    now = at(now_days)
    items = reviews_due(
        now=now,
        created_at=T0,
        last_reviewed_at=at(reviewed_days),
        first_run_reviewed=first,
        last_failure_at=at(failure_days),
        last_provider_change_at=at(change_days),
    )
    assert all(d.due_at <= now for d in items)
    assert [d.due_at for d in items] == sorted(d.due_at for d in items)
    assert len({d.kind for d in items}) == len(items)
    for d in items:
        assert d.overdue is (now - d.due_at > 7 * DAY)
        assert overdue_escalates(d) is d.overdue
    kinds = {d.kind for d in items}
    assert (ReviewKind.FIRST_RUN in kinds) is (not first)


# --- pause rules ----------------------------------------------------------------------


def test_pause_after_failures_default_three():
    assert not should_pause_after_failure(2, None)
    assert should_pause_after_failure(3, None)
    assert should_pause_after_failure(4, None)


def test_pause_after_failures_per_workflow():
    assert not should_pause_after_failure(0, PauseSpec(consecutive_failures=1))
    assert should_pause_after_failure(1, PauseSpec(consecutive_failures=1))
    assert not should_pause_after_failure(4, PauseSpec(consecutive_failures=5))
    assert should_pause_after_failure(5, PauseSpec(consecutive_failures=5))


def test_pause_threshold_below_one_still_pauses():
    assert should_pause_after_failure(1, PauseSpec(consecutive_failures=0))
    assert not should_pause_after_failure(0, PauseSpec(consecutive_failures=0))


def test_provider_and_plugin_pause_rules():
    assert pauses_on_provider_change(None) and pauses_on_plugin_update(None)
    off = PauseSpec(on_provider_change=False, on_plugin_update=False)
    assert not pauses_on_provider_change(off) and not pauses_on_plugin_update(off)
    mixed = PauseSpec(on_provider_change=True, on_plugin_update=False)
    assert pauses_on_provider_change(mixed) and not pauses_on_plugin_update(mixed)


# --- kill switches --------------------------------------------------------------------

AT = dt.datetime(2026, 11, 27, 10, 2, 33)


def switch(scope, name, paused=True, by="ana", reason="hosting incident", at=AT):
    return SwitchState(scope=scope, name=name, paused=paused, by=by, reason=reason, at=at)


GLOBAL_ON = switch(SwitchScope.GLOBAL, "all")
FINANCE = switch(SwitchScope.CATEGORY, "finance")
EMAIL = switch(SwitchScope.EFFECT, "email", by="bob", reason="spam wave")


def block(switches, category="finance", effects=(EffectKind.FILE,)):
    return blocking_switch(switches, category=category, effects=effects)


def test_no_paused_switch_blocks_nothing():
    assert block([]) is None
    resumed = [dataclasses.replace(s, paused=False) for s in (GLOBAL_ON, FINANCE, EMAIL)]
    assert block(resumed, effects=[EffectKind.EMAIL]) is None


def test_category_switch_covers_only_its_category():
    assert block([FINANCE]) is FINANCE
    assert block([FINANCE], category="hr") is None


def test_effect_switch_covers_only_its_effects():
    assert block([EMAIL], effects=[EffectKind.FILE, EffectKind.EMAIL]) is EMAIL
    assert block([EMAIL], effects=[EffectKind.FILE]) is None
    assert block([EMAIL], effects=[]) is None


def test_global_switch_covers_everything():
    assert block([GLOBAL_ON], category="anything", effects=[]) is GLOBAL_ON


def test_precedence_global_then_category_then_effect():
    effects = [EffectKind.EMAIL]
    assert block([EMAIL, FINANCE, GLOBAL_ON], effects=effects) is GLOBAL_ON
    assert block([EMAIL, FINANCE], effects=effects) is FINANCE
    assert block([EMAIL, dataclasses.replace(FINANCE, paused=False)], effects=effects) is EMAIL


def test_first_covering_switch_within_a_scope():
    http = switch(SwitchScope.EFFECT, "http", by="cy")
    effects = [EffectKind.EMAIL, EffectKind.HTTP]
    assert block([http, EMAIL], effects=effects) is http
    assert block([EMAIL, http], effects=effects) is EMAIL


def test_blocking_switch_consumes_one_shot_iterables():
    assert block(iter([EMAIL, FINANCE]), effects=iter([EffectKind.EMAIL])) is FINANCE


def test_switch_refusal_text():
    assert switch_refusal_text(FINANCE) == (
        "category finance is paused by ana at 2026-11-27 10:02 UTC: hosting incident"
    )
    assert switch_refusal_text(EMAIL) == (
        "effect email is paused by bob at 2026-11-27 10:02 UTC: spam wave"
    )
    assert switch_refusal_text(GLOBAL_ON).startswith("all automation is paused by ana")


def test_switch_refusal_text_without_details():
    bare = switch(SwitchScope.CATEGORY, "hr", by=None, reason=None, at=None)
    assert switch_refusal_text(bare) == "category hr is paused"
    assert switch_refusal_text(dataclasses.replace(bare, reason="  ")) == "category hr is paused"


def test_switch_refusal_text_converts_aware_time_to_utc():
    aware = AT.replace(tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert "at 2026-11-27 08:02 UTC" in switch_refusal_text(dataclasses.replace(FINANCE, at=aware))


def test_switch_refusal_text_refuses_a_resumed_switch():
    with pytest.raises(ValueError, match="not paused"):
        switch_refusal_text(dataclasses.replace(FINANCE, paused=False))


def test_approvers_needed_and_repeat_approval() -> None:
    from sophmate_desktop.domain import policy

    assert policy.approvers_needed(1, customer_facing=False, customer_facing_approvers=3) == 1
    assert policy.approvers_needed(1, customer_facing=True, customer_facing_approvers=3) == 3
    assert policy.approvers_needed(2, customer_facing=True, customer_facing_approvers=1) == 2
    assert policy.approvers_needed(0, customer_facing=False, customer_facing_approvers=1) == 1
    assert policy.repeat_approval_refusal(approver="Ana", given_by=["bob"]) is None
    refusal = policy.repeat_approval_refusal(approver=" ana", given_by=["bob", "ANA"])
    assert refusal and "approved it already" in refusal
