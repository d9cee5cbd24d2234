// Building blocks shared by every dashboard: one datasource variable, one query style, units
// and descriptions on every panel, and a grid that never overlaps.
local config = (import '../alerts/config.libsonnet')._config;

{
  selector: config.selector,
  ds: { type: 'prometheus', uid: '${datasource}' },
  tag: 'claude-code',

  // A Prometheus query. `instant` for tables and single values over the dashboard's range.
  target(expr, legend='', instant=false, table=false):: {
    datasource: $.ds,
    expr: std.stripChars(expr, '\n '),
    legendFormat: legend,
    instant: instant || table,
    range: !(instant || table),
    format: if table then 'table' else 'time_series',
  },

  local panel(type, title, description, unit, targets, w, h, extra={}) = {
    type: type,
    title: title,
    description: description,
    datasource: $.ds,
    targets: [t { refId: std.char(65 + i) } for i in std.range(0, std.length(targets) - 1) for t in [targets[i]]],
    fieldConfig: { defaults: { unit: unit }, overrides: [] },
    gridPos: { w: w, h: h },
  } + extra,

  stat(title, description, unit, targets, w=4, h=4)::
    panel('stat', title, description, unit, targets, w, h, {
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'none' },
    }),
  timeseries(title, description, unit, targets, w=12, h=8, stack=false, bars=false, interval=null)::
    panel('timeseries', title, description, unit, targets, w, h, {
      fieldConfig+: { defaults+: { custom: {
        drawStyle: if bars then 'bars' else 'line',
        fillOpacity: if bars || stack then 60 else 10,
        stacking: { mode: if stack then 'normal' else 'none' },
      } } },
      options: { legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
    } + (if interval != null then { interval: interval } else {})),
  bars(title, description, unit, targets, w=12, h=8)::
    panel('bargauge', title, description, unit, targets, w, h, {
      options: { orientation: 'horizontal', displayMode: 'basic', reduceOptions: { calcs: ['lastNotNull'], values: false } },
    }),
  // A table whose instant queries are joined into one row per label set (actor, alert, ...),
  // sorted by the column named `sortBy`.
  table(title, description, unit, targets, sortBy, desc=false, w=24, h=10, columns=[])::
    panel('table', title, description, unit, targets, w, h, {
      // Grafana names a lone query's value field "Value", and "Value #<refId>" when there are more.
      local field(refId) = if std.length(targets) == 1 then 'Value' else 'Value #' + refId,
      fieldConfig+: { overrides: [
        {
          matcher: { id: 'byName', options: field(col.refId) },
          properties: [{ id: 'displayName', value: col.name }, { id: 'unit', value: col.unit }],
        }
        for col in columns
      ] },
      transformations: [
        { id: 'merge', options: {} },
        { id: 'organize', options: { excludeByName: { Time: true }, renameByName: {} } },
      ],
      options: { showHeader: true, sortBy: [{ displayName: sortBy, desc: desc }] },
    }),
  // A table column: the value of query refId, its name and unit.
  column(refId, name, unit):: { refId: refId, name: name, unit: unit },

  // Rows of panels -> panels with ids and gridPos (each row starts below the tallest before it).
  grid(rows)::
    local place(acc, row) =
      local height = std.foldl(function(m, p) std.max(m, p.gridPos.h), row, 0);
      local placed = std.foldl(
        function(st, p) {
          x: st.x + p.gridPos.w,
          panels: st.panels + [p { gridPos+: { x: st.x, y: acc.y } }],
        },
        row,
        { x: 0, panels: [] }
      );
      { y: acc.y + height, panels: acc.panels + placed.panels };
    local all = std.foldl(place, rows, { y: 0, panels: [] }).panels;
    [all[i] { id: i + 1 } for i in std.range(0, std.length(all) - 1)],

  datasourceVariable:: {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    hide: 0,
    refresh: 1,
  },
  // A multi-select variable over a label of the merged cost counter, with "All" = any value.
  labelVariable(name, label, filter=''):: {
    name: name,
    label: label,
    type: 'query',
    datasource: $.ds,
    query: { query: 'label_values(claude_code_cost_usd_total{%s%s}, %s)' % [$.selector, filter, name], refId: name },
    definition: 'label_values(claude_code_cost_usd_total{%s%s}, %s)' % [$.selector, filter, name],
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    refresh: 2,
    sort: 1,
    hide: 0,
  },

  dashboard(uid, title, description, panels, variables=[]):: {
    uid: uid,
    title: title,
    description: description,
    tags: [$.tag],
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 38,
    version: 1,
    refresh: '1m',
    time: { from: 'now-7d', to: 'now' },
    timepicker: {},
    annotations: { list: [] },
    links: [{ type: 'dashboards', tags: [$.tag], asDropdown: true, title: 'Claude Code', includeVars: false, keepTime: true }],
    templating: { list: [$.datasourceVariable] + variables },
    panels: panels,
  },
}
