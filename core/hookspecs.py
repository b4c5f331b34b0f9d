"""Every hook a Jixiao plugin can implement, in one place.

Implement a hook with ``@hookimpl`` from ``core.plugins`` (or
``pluggy.HookimplMarker("jixiao")``) on a module or object registered as a
plugin. Hooks are always called with keyword arguments; an implementation may
accept any subset of them. docs/plugins.md lists these hooks and a test keeps
the two in step.
"""

from __future__ import annotations

import pluggy

PROJECT = "jixiao"
hookspec = pluggy.HookspecMarker(PROJECT)


# --- Setup: called once per application by ``create_app`` ------------------------

@hookspec
def jixiao_add_hookspecs(pm):
    """Declare the hooks that belong to this plugin alone.

    Called once, after every plugin is registered and before unknown hook
    implementations are refused, with pluggy's manager ``pm``: call
    ``pm.add_hookspecs(module)`` with the plugin's own hookspecs module. Other
    plugins implement those hooks like any other; the declaring plugin calls
    them through ``core.plugins.hooks().declared(name)``. Returns nothing.
    """


@hookspec
def jixiao_config(config):
    """Set defaults for the plugin's own settings.

    Called before extensions are bound, with the app's ``config`` mapping. Use
    ``config.setdefault(...)`` so that environment and test settings win.
    Returns nothing.
    """


@hookspec
def jixiao_register_models():
    """Import the plugin's model modules so that the metadata is complete.

    Called before the database is bound and before migrations are inspected.
    Returns nothing (or the imported modules; the value is ignored).
    """


@hookspec
def jixiao_permissions():
    """Declare the permissions the plugin defines.

    Returns a list of ``core.permissions.Permission`` (name, label, default
    roles). Called once at start-up; the finance bureau may change the grants
    afterwards.
    """


@hookspec
def jixiao_admin_views(admin, db):
    """Add Flask-Admin views and menu entries.

    Called with the app's ``flask_admin.Admin`` and the ``db`` extension. Views
    should derive from ``core.web.admin.base.ScopedModelView`` (row scope, permissions,
    CSRF, audit) and set ``category`` to the stage's menu group. Returns nothing.
    """


@hookspec
def jixiao_blueprints(app):
    """Register web blueprints on ``app``. Returns nothing."""


@hookspec
def jixiao_api(api):
    """Register API blueprints on the flask-smorest ``api`` (mounted under /api/v1).

    Use ``core.web.api.ApiBlueprint`` so that authentication, scope and the error
    format are shared. Returns nothing.
    """


@hookspec
def jixiao_cli(group):
    """Add ``flask jixiao …`` commands to the click ``group``. Returns nothing."""


@hookspec
def jixiao_jobs(scheduler):
    """Register scheduled jobs on ``scheduler``, a ``core.services.scheduler.JobRegistry``.

    Called once per app, in an app context (``current_app.config`` is there).
    Call ``scheduler.add_job(name, func, trigger="cron", period="daily", hour=8)``
    (or ``trigger="interval", minutes=30``). ``func(run)`` gets a
    ``core.services.scheduler.JobRun`` (``name``, ``period``, ``when``) and runs in an app
    context, at most once per period however many processes fire it; its
    database writes are committed with the run and audited as ``job:<name>``.
    Jobs run only in the ``flask jixiao scheduler`` process and through
    ``flask jixiao jobs run``, never in web workers (docs/scheduler.md).
    Returns nothing.
    """


@hookspec
def jixiao_stage():
    """The plugin's stage as a ``core.contracts.Stage`` (key, label, order), or None.

    Menu categories are shown in stage order, and the 待办 page groups tasks by it.
    """


@hookspec
def jixiao_seed_demo(session, rng, scale):
    """Create realistic demo data.

    Called by ``flask jixiao seed-demo``, one plugin after the other: a plugin
    module names the plugins whose demo data it needs in ``DEMO_AFTER`` (e.g.
    ``("system", "targets")``; the system plugin makes the org tree, users,
    fiscal years and budget items; unregistered names are ignored). Gets the
    SQLAlchemy ``session``, a seeded ``random.Random`` ``rng`` (use it for every
    random choice so the data is deterministic) and ``scale`` (``"small"`` or
    ``"district"``). Flush, do not commit. Returns nothing.
    """


# --- Contracts: one plugin's data read by another (core/contracts.py) ---------

@hookspec(firstresult=True)
def jixiao_principal_agency(user):
    """The id of the agency an agency user works for, or None.

    Called once per request when the core computes the user's scope; the
    answer becomes ``Principal.agency_id``, which every plugin's agency-side
    scope uses (the agencies plugin answers from its membership table).
    """


@hookspec(firstresult=True)
def jixiao_principal_agency_column(user_id):
    """The answer of ``jixiao_principal_agency`` as SQL, or None.

    ``user_id`` is the SQL column of the user's id; return a scalar subquery
    correlated on it that gives what ``jixiao_principal_agency`` would answer
    for that user. The core adds it to the statement that reads an API token's
    user (``core.tokens``), so a token request needs no statement of its own
    for the agency. Called once per app.
    """


@hookspec
def jixiao_approved_targets(year, item_ids):
    """Approved target sheets as ``{budget_item_id: core.contracts.ItemTargets}``.

    ``year`` (a fiscal year number) and ``item_ids`` narrow the answer when not
    None. Answered by the targets plugin under the caller's row scope; read it
    through ``core.plugins.hooks().approved_targets``.
    """


@hookspec(firstresult=True)
def jixiao_approved_indicator_select(year):
    """A SQLAlchemy ``Select`` of the approved indicators of fiscal ``year``.

    Its labelled columns are ``core.contracts.INDICATOR_COLUMNS``, in that order.
    Answered by the targets plugin; read it through
    ``core.plugins.hooks().approved_indicator_select``.
    """


@hookspec
def jixiao_evaluation_results(year, item_ids, kinds):
    """Final evaluation results as a list of ``core.contracts.EvaluationResult``.

    Each argument narrows the answer when not None. Answered by the evaluation
    plugin under the caller's row scope; read it through
    ``core.plugins.hooks().evaluation_results``.
    """


@hookspec
def jixiao_engagements(ids, year, agency_id, closed):
    """Agency engagements as a list of ``core.contracts.EngagementView``.

    Each argument narrows the answer when not None (``year``: the year the work
    starts; ``closed``: closed or still open). Answered by the agencies plugin
    under the caller's row scope; read it through ``core.plugins.hooks().engagements``.
    """


@hookspec
def jixiao_preassessment_conclusions(year, item_ids):
    """Pre-assessment results as ``{budget_item_id: core.contracts.PreassessmentConclusion}``.

    Final conclusions (予以支持 / 调整后支持 / 不予支持 with the recommended
    amount) and items assessed by a specialist department. ``year`` (a budget
    year) and ``item_ids`` narrow the answer when not None. Answered by the
    preassessment plugin under the caller's row scope; budget preparation reads
    it through ``core.plugins.hooks().preassessment_conclusions``.
    """


# --- Events: broadcast while working, inside the transaction ------------------

@hookspec
def jixiao_workflow_transition(obj, old, new, user, action, comment, workflow):
    """Broadcast after a workflow transition of ``obj`` from ``old`` to ``new``.

    ``workflow`` is the ``core.workflow.Workflow`` (its ``chain`` names whose turn it
    is at ``obj.review_level``). Called inside the transaction that records the
    transition; raising here aborts the transition. Returns nothing.
    """


@hookspec
def jixiao_evaluation_finalized(evaluation):
    """Broadcast when an evaluation becomes final, inside its transaction.

    ``evaluation`` is a ``core.contracts.EvaluationResult`` (catalogue coverage
    and disclosure listen). Returns nothing.
    """


@hookspec
def jixiao_year_opened(previous, year):
    """Broadcast when fiscal year ``year`` was opened from ``previous`` (``FiscalYear``s),
    inside its transaction, after the continuing projects got their items of ``year``.

    A stage carries its own data forward (the targets plugin copies approved target
    sheets as drafts). Opening again calls it again: carry only what is missing.
    Returns nothing.
    """


# --- Extension points: a plugin adds to or replaces what the core does ---------

@hookspec(firstresult=True)
def jixiao_score_method(method):
    """Return a scoring function for a custom indicator method name, or None."""


@hookspec
def jixiao_tasks(principal, year):
    """The actions waiting for ``principal`` in fiscal ``year`` (待办).

    Returns a list of ``core.contracts.Task``: records this person must fill, fix,
    review at their level, score or decide, each with a link (inside the site) and a
    due date where one applies; for the finance bureau, queue sizes per stage and
    level (one task with ``count``). Run under the principal's row scope; keep it to
    a few counting queries. Shown on the 待办 page, counted in the navigation badge.
    """


@hookspec
def jixiao_item_panels(item):
    """The plugin's panels on the page of the budget item ``item``.

    Returns a list of ``core.contracts.Panel`` (what this stage holds of the item:
    targets and their state, monitoring lights, evaluations with score and grade …).
    Queries run under the reader's row scope. Returns an empty list when nothing.
    """


@hookspec
def jixiao_dashboard_widgets(user):
    """Cards (``core.contracts.Widget``) for the home page of ``user``: a stage's card (its
    ``stage`` set) shows the selected year's progress, per unit or per light, under the scope.
    """
