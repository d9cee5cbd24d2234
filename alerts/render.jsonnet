// Renders the rule files Prometheus loads. `overrides` (JSON) is merged into _config, so a test
// or an operator can change a threshold or window without editing the mixin.
function(overrides={})
  local mixin = (import 'mixin.libsonnet') + { _config+:: std.mergePatch(super._config, overrides) };
  local header = '# Generated from alerts/*.libsonnet by scripts/generate-rules.sh. Do not edit.\n';
  {
    'recording-rules.yaml': header + std.manifestYamlDoc(mixin.prometheusRules, indent_array_in_object=false, quote_keys=false),
    'alerts.yaml': header + std.manifestYamlDoc(mixin.prometheusAlerts, indent_array_in_object=false, quote_keys=false),
  }
