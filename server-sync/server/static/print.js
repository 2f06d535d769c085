// The desk's print page: open the print dialog once the page is drawn.
window.addEventListener("load", function () { window.print(); });
