"""The upload form of a bulk import."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from onboarding.imports.spreadsheet import MAX_BYTES


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("The filled-in list (CSV or Excel)"),
        help_text=_("Fill in the template, one trader per row. At most 20,000 rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    consent_confirmed = forms.BooleanField(
        label=_(
            "I confirm that every trader in this file signed their consent to the processing of their "
            "personal data on paper, and that the signed forms are kept."
        ),
        error_messages={"required": _("Confirm that every trader in the file signed their consent on paper.")},
    )
    import_valid_rows = forms.BooleanField(
        label=_("Import the correct rows and list the others"),
        help_text=_("Without this, one wrong row stops the whole file: nothing is imported until it is fixed."),
        required=False,
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."), code="file_type")
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB; split it into several files.") % {"size": MAX_BYTES // 2**20},
                code="file_size",
            )
        return upload
