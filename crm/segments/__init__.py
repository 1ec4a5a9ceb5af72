"""Segments: saved, lawful, fast filters over people.

- `registry`: the one registry of criteria (and what the law keeps out of it);
- `criteria/`: the built-in criteria;
- `params`: typed criterion parameters;
- `validation`: checks a JSON criteria tree, naming the path of every problem;
- `compiler`: turns a valid tree into ONE SQL query over `crm.Person` (EXISTS semi-joins),
  scoped by tenancy;
- `services`: the stable API other apps call (`people_in`, `snapshot`, `freeze`, `split`…);
- `selectors`: which segments a user may choose (blasts, canvassing);
- `views`, `urls`: the filter builder and segment screens in the Wagtail admin.

See docs/segments.md.
"""
