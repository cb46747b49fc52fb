/* Chợ 4.0: the sound of the stall page (static/js/stall.js uses it).
 *
 * new Cho40Sound({clipsBase, clipType, onChange, onChime}):
 *   .unlock()               inside a tap ("Bật loa"): browsers allow sound only after one;
 *   .on, .voice             unlocked yet; the phone's Vietnamese voice, or null;
 *   .announce(amount, heard) a chime (WebAudio, generated), then "Đã nhận … đồng"
 *                           spoken by that voice (speechSynthesis, lang vi-VN) or,
 *                           without one, the word clips played one after the other
 *                           (HTMLAudio; words from stall-words.js). heard("speech" |
 *                           "clips") once the sound has started. The promise resolves
 *                           when done, failed or too long: a queue never stalls on it.
 */
(function () {
  "use strict";

  function wait(ms) {
    return new Promise(function (done) { setTimeout(done, ms); });
  }

  // Resolves when the job ends, fails, or takes longer than it may.
  function bounded(ms, start) {
    return new Promise(function (done) {
      var finished = false;
      function end() { if (!finished) { finished = true; done(); } }
      setTimeout(end, ms);
      try { start(end); } catch (e) { end(); }
    });
  }

  function Sound(options) {
    this.options = options;
    this.on = false;
    this.context = null;
    this.voice = null;
    this.clips = {};
    var self = this;
    var synth = window.speechSynthesis;
    if (synth) {  // the voices load after the page, on some phones only when asked
      if (synth.addEventListener) synth.addEventListener("voiceschanged", function () { self.pickVoice(); });
      else synth.onvoiceschanged = function () { self.pickVoice(); };
    }
  }

  Sound.prototype.pickVoice = function () {
    var voices = window.speechSynthesis ? window.speechSynthesis.getVoices() || [] : [];
    this.voice = null;
    for (var i = 0; i < voices.length; i++) {
      if (/^vi([-_]|$)/i.test(voices[i].lang || "")) { this.voice = voices[i]; break; }
    }
    if (this.options.onChange) this.options.onChange();
  };

  Sound.prototype.clipUrl = function (name) {
    return this.options.clipsBase + name + (this.options.clipType || ".ogg");
  };

  // Inside the tap: start the audio context, let speech and clips play from now on.
  Sound.prototype.unlock = function () {
    var self = this;
    if (!this.on) {
      this.on = true;
      var Context = window.AudioContext || window.webkitAudioContext;
      if (Context) {
        try { this.context = new Context(); } catch (e) { this.context = null; }
      }
      Object.keys(window.Cho40Words.CLIP_FILES).forEach(function (word) {
        var name = window.Cho40Words.CLIP_FILES[word];
        var clip = new Audio(self.clipUrl(name));
        clip.preload = "auto";
        self.clips[name] = clip;
      });
    }
    if (this.context && this.context.state === "suspended") this.context.resume();
    if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
      // An empty utterance inside the tap: some phones allow speech only once one was started by a tap.
      var warmUp = new window.SpeechSynthesisUtterance("");
      warmUp.lang = "vi-VN";
      warmUp.volume = 0;
      try { window.speechSynthesis.speak(warmUp); } catch (e) { /* no speech: clips */ }
    }
    this.pickVoice();
  };

  Sound.prototype.chime = function () {
    var context = this.context;
    if (!context) return Promise.resolve();
    if (this.options.onChime) this.options.onChime();
    var now = context.currentTime;
    [[880, 0], [1318.5, 0.16]].forEach(function (note) {
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = note[0];
      gain.gain.setValueAtTime(0.0001, now + note[1]);
      gain.gain.exponentialRampToValueAtTime(0.5, now + note[1] + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + note[1] + 0.4);
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start(now + note[1]);
      oscillator.stop(now + note[1] + 0.45);
    });
    return wait(600);
  };

  // heard("speech") once the voice starts (or ends without saying it started).
  Sound.prototype.speak = function (amount, heard) {
    var voice = this.voice;
    var text = window.Cho40Words.text(amount);
    return bounded(2000 + 400 * text.split(" ").length, function (end) {
      var utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = "vi-VN";
      try { utterance.voice = voice; } catch (e) { /* the lang alone picks a voice */ }
      utterance.rate = 0.95;
      utterance.onstart = function () { heard("speech"); };
      utterance.onend = function () { heard("speech"); end(); };
      utterance.onerror = end;  // not allowed, no engine: nothing heard
      window.speechSynthesis.speak(utterance);
    });
  };

  Sound.prototype.playClip = function (name, heard) {
    var clip = this.clips[name] || new Audio(this.clipUrl(name));
    return bounded(3000, function (end) {
      clip.onended = end;
      clip.onerror = end;
      try { clip.currentTime = 0; } catch (e) { /* not loaded yet */ }
      var playing = clip.play();
      if (playing && playing.then) playing.then(function () { heard("clips"); }, end);
      else heard("clips");
    });
  };

  // heard("clips") once a clip plays (a phone refusing to play refuses them all).
  Sound.prototype.playClips = function (amount, heard) {
    var self = this;
    return window.Cho40Words.clips(amount).reduce(function (chain, name) {
      return chain.then(function () { return self.playClip(name, heard); });
    }, Promise.resolve());
  };

  Sound.prototype.announce = function (amount, heard) {
    var self = this;
    if (!this.voice) this.pickVoice();  // the voices may have come since
    var useSpeech = this.voice && window.speechSynthesis;
    return this.chime().then(function () {
      return useSpeech ? self.speak(amount, heard) : self.playClips(amount, heard);
    });
  };

  Sound.wait = wait;
  window.Cho40Sound = Sound;
})();
