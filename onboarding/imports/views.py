"""The bulk-import pages: upload into a market (its board, its province's
officers) or into a province (its officers; each row names its market), the
template, and the job's page with its progress and the rows' errors.

Who may import is decided by ``market.roles`` (``manages_market``,
``oversees_province``); anyone else, volunteers included, finds a 404, as for
a market that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from common.errors import DomainError
from market import roles
from market.models import Market, Province
from onboarding.imports import selectors, services, spreadsheet
from onboarding.imports.forms import ImportForm
from onboarding.imports.models import ImportJob
from onboarding.imports.spreadsheet import HEADERS


def _market(user: Any, market_id: int) -> Market:
    market = Market.objects.select_related("province").filter(pk=market_id).first()
    if market is None or not roles.manages_market(user, market.pk):
        raise Http404
    return market


def _province(user: Any, code: str) -> Province:
    province = Province.objects.filter(pk=code).first()
    if province is None or not roles.oversees_province(user, province.pk):
        raise Http404
    return province


def _upload(
    request: HttpRequest, *, market: Market | None, province: Province | None, form: ImportForm
) -> HttpResponse | None:
    """Start the import of a valid form; ``None`` when the file is refused (the error is on the form)."""
    upload = form.cleaned_data["file"]
    try:
        job = services.import_start(
            actor=request.user,  # type: ignore[arg-type]
            market=market,
            province=province,
            file_name=upload.name,
            content=upload.read(),
            consent_confirmed=form.cleaned_data["consent_confirmed"],
            all_or_nothing=not form.cleaned_data["import_valid_rows"],
        )
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else "file", error.message)
        return None
    return redirect("onboard:import-job", job_id=job.pk)


def _page(request: HttpRequest, context: dict[str, Any], form: ImportForm, status: int = 200) -> HttpResponse:
    with_market = context.get("province") is not None
    context.update(
        form=form,
        notes=spreadsheet.notes(with_market=with_market),
        headers=[column.header for column in spreadsheet.columns_for(with_market=with_market)],
        template_query="?kind=province" if with_market else "",
    )
    return render(request, "onboarding/imports/upload.html", context, status=status)


def _import_page(request: HttpRequest, *, market: Market | None, province: Province | None) -> HttpResponse:
    """The upload page of a market's import or of a province's (exactly one given)."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        done = _upload(request, market=market, province=province, form=form)
        if done is not None:
            return done
    if market is not None:
        context: dict[str, Any] = {
            "market": market,
            "scope_name": market.name,
            "action": reverse("onboard:import", kwargs={"market_id": market.pk}),
            "jobs": selectors.recent_imports(market_id=market.pk),
        }
    else:
        assert province is not None
        context = {
            "province": province,
            "scope_name": province.name,
            "action": reverse("onboard:import-province", kwargs={"code": province.pk}),
            "jobs": selectors.recent_imports(province_code=province.pk),
        }
    return _page(request, context, form, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def market_import(request: HttpRequest, market_id: int) -> HttpResponse:
    return _import_page(request, market=_market(request.user, market_id), province=None)


@login_required
@require_http_methods(["GET", "POST"])
def province_import(request: HttpRequest, code: str) -> HttpResponse:
    return _import_page(request, market=None, province=_province(request.user, code))


@login_required
@require_GET
def template_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The template, for anyone who may import somewhere; ``?kind=province``
    adds the market column of a province's import."""
    user: Any = request.user
    if not (roles.manages_any_market(user) or user.province_roles.exists()):
        raise Http404
    with_market = request.GET.get("kind") == "province"
    name = "mau-nhap-tieu-thuong" + ("-tinh" if with_market else "")
    if fmt == "csv":
        response = HttpResponse(spreadsheet.template_csv(with_market=with_market), content_type=spreadsheet.CSV_TYPE)
    elif fmt == "xlsx":
        response = HttpResponse(spreadsheet.template_xlsx(with_market=with_market), content_type=spreadsheet.XLSX_TYPE)
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _job(request: HttpRequest, job_id: int) -> ImportJob:
    job = selectors.import_job_for(user=request.user, job_id=job_id)
    if job is None:
        raise Http404
    return job


@login_required
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    if job.market is not None:
        action = reverse("onboard:import", kwargs={"market_id": job.market_id})
        scope_name = job.market.name
    else:
        action = reverse("onboard:import-province", kwargs={"code": job.province_id})
        scope_name = job.province.name if job.province else ""
    errors = [
        {**error, "header": HEADERS.get(error["column"], error["column"])} for error in job.errors[:MAX_ERRORS_SHOWN]
    ]
    context = {
        "job": job,
        "scope_name": scope_name,
        "action": action,
        "errors": errors,
        "errors_hidden": max(0, job.error_count - len(errors)),
        "status_url": reverse("onboard:import-status", kwargs={"job_id": job.pk}),
        "form": ImportForm(),
    }
    return render(request, "onboarding/imports/job.html", context)


MAX_ERRORS_SHOWN = 500


@login_required
@require_GET
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    """The progress of a job, polled by the job page's script."""
    job = _job(request, job_id)
    response = JsonResponse(job.progress())
    response["Cache-Control"] = "no-store"
    return response
