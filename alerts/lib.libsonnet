// Helpers shared by the rules and the alerts.
{
  // '90s', '15m', '12h', '3d', '1w' -> seconds, for comparisons against time().
  seconds(d)::
    local units = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
    local unit = d[std.length(d) - 1];
    assert std.objectHas(units, unit) : 'duration without a unit: ' + d;
    std.parseInt(d[0:std.length(d) - 1]) * units[unit],

  // A number as PromQL reads it (no exponent for the thresholds we use).
  num(x)::
    if std.isString(x) then x
    else if x == std.floor(x) then std.format('%d', x)
    else std.format('%g', x),
}
