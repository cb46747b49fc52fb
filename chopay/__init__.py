"""chopay: the payment primitives of Chợ 4.0.

VietQR codec and bank directory, QR images, one-time confirmation codes,
identifiers (merchant codes, phone numbers), the ``CHO40`` payment text, ASCII
folding of Vietnamese names and the USSD menu. Standard library plus
``qrcode`` and ``Pillow`` only: no Django and nothing of the project, so the
package can be used (and published) on its own.
"""
