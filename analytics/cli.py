"""``flask analytics ...`` commands."""
import csv

import click
from flask.cli import AppGroup

from core.extensions import db

analytics_cli = AppGroup("analytics", help="Figures, history import and open data.")


@analytics_cli.command("import-messages")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--body", "body_id", type=int, required=True, help="The body whose past messages these are.")
@click.option("--campaign", "campaign_id", type=int,
              help="Import into this campaign of the body (default: a closed campaign 历史留言（SOURCE）).")
@click.option("--source", help="Name of the board the file comes from (default: the file name without .csv).")
@click.option("--map", "mappings", multiple=True, metavar="FIELD=COLUMN",
              help="Column of a field (ref, user, title, time, body, reply, reply_time, category, type); "
                   "repeatable. Defaults: 留言编号, 留言用户, 留言主题, 留言时间, 留言详情, 答复意见, 答复时间.")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="The file's encoding (e.g. gb18030).")
@click.option("--time-format", "time_formats", multiple=True, metavar="FORMAT",
              help="strptime format of the times, repeatable (default: 2019/4/25 9:32:09 and ISO forms).")
@click.option("--timezone", default="Asia/Shanghai", show_default=True, help="The zone of the file's times.")
@click.option("--batch", "batch_size", default=500, show_default=True, help="Rows per transaction.")
@click.option("--index/--no-index", default=True, show_default=True,
              help="Index the imported proposals for search at the end (else run `flask search catch-up`).")
def import_messages_command(path, body_id, campaign_id, source, mappings, encoding, time_formats, timezone,
                            batch_size, index):
    """Import a message board's past messages and replies from a CSV file; re-running imports nothing twice."""
    from accounts.models import Body
    from analytics import importer
    from campaigns.models import Campaign

    body = db.session.get(Body, body_id)
    if body is None:
        raise click.ClickException(f"No body {body_id}.")
    campaign = None
    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None or campaign.body_id != body.id:
            raise click.ClickException(f"No campaign {campaign_id} of body {body_id}.")
    try:
        mapping = importer.parse_mapping(mappings)
        header, rows = importer.read_csv(path, encoding)
        importer.check_columns(header, mapping)
        total = importer.count_rows(path, encoding)
        importer.ZoneInfo(timezone)
    except (importer.ImportProblem, UnicodeDecodeError, LookupError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    source = source or importer.default_source(path)
    with click.progressbar(length=total, label="Importing", show_pos=True) as bar:
        try:
            result = importer.import_messages(
                rows, body=body, campaign=campaign, source=source, mapping=mapping,
                time_formats=time_formats or importer.DEFAULT_TIME_FORMATS, timezone=timezone,
                batch_size=batch_size, commit=db.session.commit, progress=bar.update)
        except (importer.ImportProblem, csv.Error, UnicodeDecodeError) as error:
            db.session.rollback()
            raise click.ClickException(f"{error} (batches already committed stay; re-running the import skips "
                                       "them)") from None
        except Exception:
            db.session.rollback()
            raise
    click.echo(f"Campaign {result.campaign_id}, source '{source}': {result.imported} imported "
               f"({result.replies} with a reply), {result.skipped_existing} already there, "
               f"{result.skipped_bad} skipped.")
    for reason, count in sorted(result.skipped.items()):
        click.echo(f"  skipped, {reason}: {count}")
    if result.titles_cut:
        click.echo(f"  titles cut to {importer.TITLE_MAX_LENGTH} characters: {result.titles_cut}")
    click.echo(f"  accounts created for board users: {result.authors_created}; "
               f"categories created: {result.categories_created}")
    if index and result.imported:
        from search.indexing import catch_up, get_backend
        try:
            count = catch_up(get_backend())
        except Exception as error:  # noqa: BLE001 - the import is committed; the queue keeps the work
            db.session.rollback()
            click.echo(f"Search indexing failed ({error}); run `flask search catch-up`.", err=True)
        else:
            click.echo(f"{count} proposals indexed for search.")
    elif result.imported:
        click.echo("Run `flask search catch-up` to index the imported proposals for search.")


@analytics_cli.command("export")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory to write the files into (created if needed).")
@click.option("--campaign", "campaign_id", type=int, help="Export one campaign only.")
@click.option("--edition", "edition_code", help="Export one local edition only (its division code).")
def export_command(out_dir, campaign_id, edition_code):
    """Write the open data (CSV and JSON of every dataset, the data dictionary, the headline figures)."""
    from analytics import exports
    from analytics.export_rows import is_exportable
    from campaigns.models import Campaign
    from editions.services import edition_by_code

    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None or not is_exportable(campaign):
            raise click.ClickException(f"No public campaign {campaign_id}.")
    edition = edition_by_code(edition_code) if edition_code else None
    if edition_code and edition is None:
        raise click.ClickException(f"No local edition {edition_code}.")
    written = exports.write_export(out_dir, campaign_id=campaign_id, edition=edition)
    for name, rows in written.items():
        click.echo(f"{name}: {rows} rows" if rows is not None else name)
    click.echo(f"Written to {out_dir}.")


@analytics_cli.command("refresh")
@click.option("--backfill/--no-backfill", default=True, show_default=True,
              help="First fill the handling time of replied proposals that lack it (rows older than the column).")
def refresh_command(backfill):
    """Rebuild the figures' rollup now (pages rebuild it when it is older than ANALYTICS_MAX_AGE_SECONDS)."""
    from analytics import rollup

    if backfill:
        filled = rollup.backfill_first_replies()
        db.session.commit()
        if filled:
            click.echo(f"Handling time filled in for {filled} replied proposals.")
    took = rollup.refresh()
    click.echo(f"Figures rebuilt in {took:.2f} s.")


@analytics_cli.command("report")
@click.option("--year", type=int, help="The year (default: the latest year with messages).")
@click.option("--body", "body_id", type=int, help="One body's report (default: the whole site).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The HTML file to write.")
@click.option("--locale", default="zh_Hans", show_default=True, type=click.Choice(["zh_Hans", "en"]))
def report_command(year, body_id, out_path, locale):
    """Write the yearly report as one printable HTML file (no scripts, charts drawn as SVG)."""
    from flask import current_app, render_template
    from flask_babel import force_locale

    from accounts.models import Body
    from analytics import report, rollup

    if body_id is not None and db.session.get(Body, body_id) is None:
        raise click.ClickException(f"No body {body_id}.")
    rollup.ensure_fresh()
    # Templates expect a request (the context processors ask who is logged in): render in an anonymous one.
    with current_app.test_request_context("/"), force_locale(locale):
        data = report.build(year, body_id=body_id, locale=locale)
        if data.year is None:
            raise click.ClickException("There are no messages to report on.")
        html = render_template("analytics/report_file.html", report=data, locale=locale)
    with open(out_path, "w", encoding="utf-8") as out:
        out.write(html)
    click.echo(f"Report for {data.year} written to {out_path}.")
