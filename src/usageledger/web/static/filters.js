// The usage filters, enhanced: typing a day picks "Custom range" (a named period would otherwise win over it).
// Without JavaScript the form still works; the hint beside the days says the same thing.
window.addEventListener("DOMContentLoaded", function () {
  var period = document.getElementById("period");
  if (!period) return;
  ["since", "until"].forEach(function (id) {
    var field = document.getElementById(id);
    if (field) field.addEventListener("input", function () { period.value = "custom"; });
  });
});
