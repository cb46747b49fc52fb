"""Bulk import of traders from a spreadsheet, by a market's board (one
market) or a province officer (rows naming their market): the template, the
parsing, the row checks (the registration form's rules, checked for all rows
at once), the writing in one transaction, and the import job's pages."""
