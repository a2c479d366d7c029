/* Stub of the esp32 core 2.0.x I2S library (libraries/I2S/src/I2S.h, core 2.0.17 as the book
 * requires): PDM modes and setAllPins. */
#pragma once
#include <Arduino.h>

typedef enum {
  I2S_PHILIPS_MODE,
  I2S_RIGHT_JUSTIFIED_MODE,
  I2S_LEFT_JUSTIFIED_MODE,
  ADC_DAC_MODE,
  PDM_STEREO_MODE,
  PDM_MONO_MODE
} i2s_mode_t;

class I2SClass : public Stream {
 public:
  I2SClass(uint8_t deviceIndex, uint8_t clockGenerator, uint8_t sdPin, uint8_t sckPin,
           uint8_t fsPin);
  int begin(int mode, int sampleRate, int bitsPerSample);
  int begin(int mode, int bitsPerSample);
  void end();
  int setSckPin(int sckPin);
  int setFsPin(int fsPin);
  int setDataInPin(int inSdPin);
  int setDataOutPin(int outSdPin);
  int setAllPins();
  int setAllPins(int sckPin, int fsPin, int sdPin, int outSdPin, int inSdPin);
  int available() override;
  int read() override;
  int peek() override;
  size_t write(uint8_t) override;
  int read(void *buffer, size_t size);
  void onReceive(void (*)(void));
  int setBufferSize(int bufferSize);
};

extern I2SClass I2S;
