/* Chợ 4.0: an amount of đồng read aloud in Vietnamese, as a list of words.
 * The same function as chopay/spoken.py (read its docstring for the rules; a
 * browser test checks that both agree): groups tỷ / triệu / nghìn, "không trăm"
 * inside a group after the first, "linh" for zero tens, "mười" / "mươi",
 * "mốt", "tư", "lăm".
 * window.Cho40Words = { words(n), announcement(n), text(n), clips(n), CLIP_FILES }. */
(function () {
  "use strict";

  var MAX_AMOUNT = 999999999999;
  var DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"];
  var SCALES = ["", "nghìn", "triệu", "tỷ"];
  var RECEIVED = "đã nhận";
  var DONG = "đồng";
  var CLIP_FILES = {
    "đã nhận": "da-nhan", "đồng": "dong",
    "không": "khong", "một": "mot", "hai": "hai", "ba": "ba", "bốn": "bon",
    "năm": "nam", "sáu": "sau", "bảy": "bay", "tám": "tam", "chín": "chin",
    "mười": "muoi", "mươi": "muoi-tens", "mốt": "mot-tens", "tư": "tu", "lăm": "lam",
    "linh": "linh", "trăm": "tram", "nghìn": "nghin", "triệu": "trieu", "tỷ": "ty"
  };

  function group(number, leading) {
    var hundreds = Math.floor(number / 100), tens = Math.floor(number / 10) % 10, units = number % 10;
    var words = [];
    if (hundreds || !leading) words.push(DIGITS[hundreds], "trăm");
    if (tens === 0) {
      if (units && words.length) words.push("linh");
    } else if (tens === 1) {
      words.push("mười");
    } else {
      words.push(DIGITS[tens], "mươi");
    }
    if (units) {
      if (units === 5 && tens) words.push("lăm");
      else if (units === 1 && tens > 1) words.push("mốt");
      else if (units === 4 && tens > 1) words.push("tư");
      else words.push(DIGITS[units]);
    }
    return words;
  }

  function words(amount) {
    if (!(Number.isSafeInteger(amount) && amount >= 1 && amount <= MAX_AMOUNT)) {
      throw new RangeError("amount out of range 1…" + MAX_AMOUNT + ": " + amount);
    }
    var groups = [];
    while (amount) {
      groups.push(amount % 1000);
      amount = Math.floor(amount / 1000);
    }
    var result = [];
    for (var scale = groups.length - 1; scale >= 0; scale--) {
      if (groups[scale]) {
        result = result.concat(group(groups[scale], result.length === 0));
        if (SCALES[scale]) result.push(SCALES[scale]);
      }
    }
    return result;
  }

  function announcement(amount) {
    return [RECEIVED].concat(words(amount), [DONG]);
  }

  function text(amount) {
    var spoken = announcement(amount).join(" ");
    return spoken.charAt(0).toUpperCase() + spoken.slice(1);
  }

  function clips(amount) {
    return announcement(amount).map(function (word) { return CLIP_FILES[word]; });
  }

  window.Cho40Words = { words: words, announcement: announcement, text: text, clips: clips, CLIP_FILES: CLIP_FILES };
})();
