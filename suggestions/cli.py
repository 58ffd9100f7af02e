"""``flask suggestions ...`` commands."""
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from campaigns.models import Campaign, CampaignStatus
from core.extensions import db
from suggestions import cluster_rows, clustering, deadlines, handling, issue_model, services
from suggestions.same_issue import read_pairs_csv
from suggestions.similarity_index import save_campaign_index

cli = AppGroup("suggestions", help="Maintain proposals.")


@cli.command("recount")
def recount() -> None:
    """Rebuild every proposal's support and oppose counters, and every cluster's count of distinct supporters,
    from the vote rows."""
    changed = services.recount_votes()
    clusters = cluster_rows.recount_supporters()
    db.session.commit()
    click.echo(f"{changed} proposals had their counters corrected; {clusters} clusters their supporter counts.")


@cli.command("cluster")
@click.argument("campaign_id", type=int)
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="Processes that read and score a large campaign (default: CLUSTER_PROCESSES, this machine's "
                   "cores up to 4).")
def cluster(campaign_id: int, processes: int | None) -> None:
    """Cluster a campaign's public proposals anew (staff decisions are kept)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"No campaign {campaign_id}.")
    with click.progressbar(length=3, label="Clustering", show_pos=True,
                           item_show_func=lambda step: step) as bar:
        def progress(step: str) -> None:
            bar.update(1, step)
        clusters = clustering.cluster_campaign(campaign, progress=progress,
                                               processes=processes or current_app.config["CLUSTER_PROCESSES"])
    db.session.commit()
    click.echo(f"{clusters} clusters of two or more proposals in campaign {campaign_id}.")


@cli.command("similarity-index")
@click.argument("campaign_ids", type=int, nargs=-1)
def similarity_index(campaign_ids: tuple[int, ...]) -> None:
    """Save a fresh similarity index (typing hints) of the given campaigns, or of every open one; each serving
    process maps the new one on its next hint."""
    if not campaign_ids:
        campaign_ids = tuple(db.session.scalars(sa.select(Campaign.id).where(Campaign.status == CampaignStatus.OPEN)
                                                .order_by(Campaign.id)))
    for campaign_id in campaign_ids:
        held = save_campaign_index(campaign_id)
        click.echo(f"campaign {campaign_id}: {held} proposals" if held else f"campaign {campaign_id}: none public")


@cli.command("remind")
def remind() -> None:
    """Queue reminder e-mails to bodies with overdue or soon-due replies (once a day per body); deliver them
    with `flask mail send-outbox`."""
    queued = deadlines.queue_reminders(current_app.config["DUE_SOON_WORKING_DAYS"])
    db.session.commit()
    click.echo(f"{queued} reminders queued.")


@cli.command("train-router")
def train_router() -> None:
    """Retrain the routing models (category and handling body) on the proposals staff have routed."""
    for target, outcome in handling.train_routers(current_app.config["ROUTER_DIR"]).items():
        click.echo(f"{target}: {outcome}")


@cli.command("train-similarity")
@click.option("--pairs", "pair_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A CSV file of labelled pairs: title1, body1, title2, body2, label (1 = the same issue).")
@click.option("--demo/--no-demo", default=False, help="Add the demo's own labelled pairs.")
@click.option("--staff/--no-staff", default=True, help="Add the staff's cluster decisions on this platform.")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Where to save the model (default: SAME_ISSUE_MODEL, instance/same_issue_model.json).")
def train_similarity(pair_files: tuple[str, ...], demo: bool, staff: bool, output: str | None) -> None:
    """Retrain the same-issue model (clusters by issue) from labelled pairs and the staff's decisions."""
    sources = {}
    try:
        for name in pair_files:
            sources[Path(name).name] = read_pairs_csv(name)
    except (ValueError, KeyError) as error:
        raise click.ClickException(str(error)) from error
    if demo:
        from demo.issue_pairs import labelled_pairs
        sources["demo.issue_pairs"] = labelled_pairs()
    if staff:
        sources["staff decisions"] = issue_model.staff_decision_pairs()
    target = Path(output or current_app.config["SAME_ISSUE_MODEL"])
    try:
        model = issue_model.retrain(sources, target)
    except ValueError as error:
        raise click.ClickException(f"{error} ({', '.join(f'{k}: {len(v)}' for k, v in sources.items())})") \
            from error
    counts = ", ".join(f"{name}: {len(pairs)}" for name, pairs in sources.items())
    click.echo(f"Trained on {model.trained_on['pairs']} pairs ({counts}); saved to {target}.")
    click.echo("Weights: " + ", ".join(f"{name} {weight:+.2f}" for name, weight in model.weights().items()))
