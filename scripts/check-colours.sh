#!/usr/bin/env bash
# Alarm colours are for alarms alone (IEC 60601-1-8). Fails when, in code under src/ (before
# a file's test module):
#  - a colour is written out anywhere but the palette (src/present/palette.rs) and its egui
#    form (src/ui/theme.rs); greys (r = g = b) are allowed, they are never alarm colours;
#  - a named red, orange, yellow or cyan is used (egui's or plotters' constants);
#  - an alarm colour is taken outside the files that draw alarms.
# Which colours are alarm-like, and that no other palette entry is, is tested in palette.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
palette='^src/(present/palette|ui/theme)\.rs$'
# The files that draw alarm indications: the banner, the alarm review list, values in alarm,
# the pressure bars, the alarm marks on the plots, the report's alarm chart and list, the ward's
# tiles (worst alarm) and trend panel (alarm events).
alarm_files='^src/(ui/(banner|alarm_review|monitor|primary|pressure_bar|value_alarms|plots|ward_tile|ward_trend)|export/(chart|pdf))\.rs$'
status=0
while IFS= read -r file; do
  code=$(awk '/^#\[cfg\(test\)\]/ { exit } { print FNR ": " $0 }' "$file")
  if ! [[ $file =~ $palette ]]; then
    bad=$(perl -ne '
      while (/(?:from_rgba?(?:_unmultiplied|_premultiplied)?|RGBColor|Rgb)\(\s*(0x[0-9A-Fa-f]+|\d+)\s*,\s*(0x[0-9A-Fa-f]+|\d+)\s*,\s*(0x[0-9A-Fa-f]+|\d+)/g) {
        my @c = ($1, $2, $3);
        my ($r, $g, $b) = map { /^0x/i ? hex($_) : $_ } @c;
        if ($r != $g || $g != $b) { print; last }
      }
      print if /\b(?:Color32|colors)::(?:RED|LIGHT_RED|DARK_RED|YELLOW|LIGHT_YELLOW|GOLD|ORANGE|KHAKI|CYAN)\b/;
      print if /&(?:RED|YELLOW|CYAN)\b/;
    ' <<<"$code")
    if [[ -n $bad ]]; then
      echo "$file: a colour written out (use the palette):" >&2
      echo "$bad" >&2
      status=1
    fi
  fi
  if ! [[ $file =~ $palette || $file =~ $alarm_files ]]; then
    bad=$(grep -E '\b(priority_color|on_priority_color|priority_rgb)\(|palette::(priority|on_priority)\(' <<<"$code" || true)
    if [[ -n $bad ]]; then
      echo "$file: an alarm colour outside the files that draw alarms:" >&2
      echo "$bad" >&2
      status=1
    fi
  fi
done < <(find src -name '*.rs' | sort)
if (( status == 0 )); then
  echo "no colour is written out outside the palette; alarm colours only where alarms are drawn"
fi
exit $status
