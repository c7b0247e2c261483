#include "stix/timestamp.h"

#include <cstdio>

namespace liaison::stix {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

Status Bad(std::string_view text, std::string_view why) {
  std::string shown(text.substr(0, 64));
  return InvalidArgumentError("'" + shown + "' is not a valid timestamp: " + std::string(why));
}

}  // namespace

Result<Timestamp> ParseTimestamp(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || s[10] != 'T' || !Digits(s, 11, 2, &hour) ||
      s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return Bad(s, "expected YYYY-MM-DDTHH:MM:SS[.fraction]Z");
  }
  if (year < 1) return Bad(s, "year 0000 out of range");
  if (month < 1 || month > 12) return Bad(s, "month out of range");
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, month)) {
    return Bad(s, "day out of range for the month");
  }
  if (hour > 23) return Bad(s, "hour out of range");
  if (minute > 59) return Bad(s, "minute out of range");
  if (second > 59) return Bad(s, "second out of range (leap seconds are not accepted)");
  size_t pos = 19;
  int64_t frac_micros = 0;
  if (s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) frac_micros = frac_micros * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return Bad(s, "empty fraction after '.'");
    for (size_t i = digits; i < 6; ++i) frac_micros *= 10;
  }
  if (pos >= s.size() || s[pos] != 'Z') return Bad(s, "must end in 'Z' (UTC)");
  if (pos + 1 != s.size()) return Bad(s, "unexpected characters after 'Z'");
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second;
  return Timestamp{secs * 1000000 + frac_micros};
}

std::string FormatTimestamp(Timestamp ts, int fraction_digits) {
  if (fraction_digits < 0) fraction_digits = 0;
  if (fraction_digits > 6) fraction_digits = 6;
  int64_t secs = ts.micros / 1000000;
  int64_t frac = ts.micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                        static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                        static_cast<long long>((rem / 60) % 60), static_cast<long long>(rem % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (fraction_digits > 0) {
    char fbuf[16];
    std::snprintf(fbuf, sizeof(fbuf), "%06lld", static_cast<long long>(frac));
    out += '.';
    out.append(fbuf, static_cast<size_t>(fraction_digits));
  }
  out += 'Z';
  return out;
}

std::string FormatTimestampShortest(Timestamp ts) {
  int64_t frac = ts.micros % 1000000;
  if (frac < 0) frac += 1000000;
  if (frac == 0) return FormatTimestamp(ts, 0);
  int digits = 6;
  while (digits > 3 && frac % 10 == 0) {
    frac /= 10;
    --digits;
  }
  return FormatTimestamp(ts, digits);
}

}  // namespace liaison::stix
